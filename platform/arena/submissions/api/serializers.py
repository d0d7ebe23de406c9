from __future__ import annotations

import json
from functools import cached_property

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from arena.submissions.breakdowns import breakdown_view, interval_view
from arena.submissions.models import Submission
from arena.submissions.selectors import (
    organised_challenge_ids,
    submission_visible_logs,
    submission_visible_scores,
)


class AnswersField(serializers.Field):
    """Fact-sheet answers: a JSON object of question key to answer, or (in a multipart form) its text."""

    # Braces doubled: DRF formats its messages.
    default_error_messages = {"invalid": "Send answers as a JSON object, e.g. {{\"external_data\": \"no\"}}."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict) or not all(isinstance(v, str | bool | int | float) or v is None
                                                  for v in data.values()):
            self.fail("invalid")
        return {str(key): value for key, value in data.items()}

    def to_representation(self, value):
        return value


ANSWERS_HELP = "Fact-sheet answers, by question key (see the phase's `fact_sheet`); a JSON object."


class SubmissionCreateIn(serializers.Serializer):
    file = serializers.FileField(required=False,
                                 help_text="The prediction file (CSV; .gz or .zip where the track allows).")
    upload_key = serializers.CharField(required=False, max_length=500,
                                       help_text="Instead of `file`: the key of a direct upload (see uploads).")
    method_name = serializers.CharField(max_length=100)
    method_description = serializers.CharField(required=False, allow_blank=True, default="")
    paper_url = serializers.URLField(required=False, allow_blank=True, default="")
    code_url = serializers.URLField(required=False, allow_blank=True, default="")
    answers = extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})(AnswersField)(
        required=False, default=dict, help_text=ANSWERS_HELP)


    def validate(self, attrs):
        if ("file" in attrs) == ("upload_key" in attrs):
            raise serializers.ValidationError("Send either `file` or `upload_key` (after a direct upload).")
        return attrs


class UploadTicketIn(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(
        choices=["predictions", "image_archive"], default="predictions",
        help_text="`predictions` for a prediction file (up to the track's max_upload_mb), `image_archive` for a "
                  "`docker save` archive of a containerised model (up to max_image_mb).")


class UploadTicketOut(serializers.Serializer):
    url = serializers.URLField(help_text="POST the file here as multipart form data, after `fields`.")
    fields = serializers.DictField(child=serializers.CharField())
    key = serializers.CharField(help_text="Send it as `upload_key` when you submit.")
    expires_at = serializers.DateTimeField()
    max_bytes = serializers.IntegerField()


class ContainerSubmissionIn(serializers.Serializer):
    image_archive = serializers.FileField(required=False, help_text="`docker save` archive (.tar or .tar.gz).")
    upload_key = serializers.CharField(
        required=False, max_length=500,
        help_text="Instead of `image_archive`: the key of a direct upload with an `image_archive` ticket.")
    image_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=300,
                                            help_text="An image on the track's allowed registries.")
    method_name = serializers.CharField(max_length=100)
    method_description = serializers.CharField(required=False, allow_blank=True, default="")
    paper_url = serializers.URLField(required=False, allow_blank=True, default="")
    code_url = serializers.URLField(required=False, allow_blank=True, default="")
    answers = extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})(AnswersField)(
        required=False, default=dict, help_text=ANSWERS_HELP)

    def validate(self, attrs):
        if "upload_key" in attrs and ("image_archive" in attrs or attrs["image_reference"].strip()):
            raise serializers.ValidationError(
                "Send one of `image_archive`, `upload_key` (after a direct upload) or `image_reference`.")
        return attrs


class SelectIn(serializers.Serializer):
    selected = serializers.BooleanField()


class ConditionOut(serializers.Serializer):
    name = serializers.CharField(help_text="The condition's name in the phase's robustness protocol.")
    condition = serializers.CharField(help_text="What the inputs went through, e.g. noise:white@10db or clean.")
    family = serializers.CharField(help_text="The kind of corruption; each family is one robustness curve.")
    severity = serializers.FloatField(help_text="Its place on the family's curve (clean: 0).")
    score = serializers.FloatField(allow_null=True, help_text="Null when the condition failed.")
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    error = serializers.CharField(required=False, help_text="Only for a failed condition: what went wrong.")


class ScoreIntervalOut(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()
    level = serializers.FloatField(help_text="The confidence level, e.g. 0.95.")


BREAKDOWN_HELP = (
    "What the score is made of, in one shape per scorer family (`family`); null when the track records none. "
    "`classification` (mer.discrete, mer.multi, mer.prefer, abaw.expr, abaw.ce, abaw.ah): `labels`, "
    "`confusion_matrix` (rows: reference, columns: prediction) and `classes`, a list of "
    "`{label, precision, recall, f1, support}` (precision null for a class never predicted, recall null for a "
    "class absent from the reference). `ov-wheel` (mer.ov-wheel): `level` (the wheel ring compared), `wheels`, "
    "a list of `{wheel, fscore, precision, recall, scored_samples}`, and `has_samples` (whether the per-sample "
    "explanation CSV exists: /submissions/{id}/{split}/explanation.csv). `va` (abaw.va): `ccc` "
    "`{valence, arousal}` and `density` `{bins, range, valence, arousal}`, each a bins x bins count of frames "
    "by reference bin (rows) and predicted bin (columns), or null. `au` (abaw.au): `units`, a list of "
    "`{unit, f1, tp, fp, fn, tn}`. `multi-task` (abaw.mtl): `va`, `expression` and `au` as above (without "
    "`family`). `correlation` (abaw.emi): `pearson` `{dimension: r}`.")


class ScoreOut(serializers.Serializer):
    score = serializers.FloatField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    conditions = ConditionOut(many=True, help_text="On a phase with a robustness protocol, the split's score "
                              "under each condition, in protocol order; empty otherwise.")
    breakdown = serializers.JSONField(allow_null=True, help_text=BREAKDOWN_HELP)
    interval = ScoreIntervalOut(allow_null=True, help_text="The score's bootstrap confidence interval, where the track "
                           "computes one (its `bootstrap` option); null otherwise.")


class SubmissionOut(serializers.ModelSerializer):
    phase = serializers.IntegerField(source="phase_id")
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    scores = serializers.SerializerMethodField()
    logs = serializers.SerializerMethodField()
    answers = serializers.SerializerMethodField(help_text="The fact-sheet answers given with the submission.")

    class Meta:
        model = Submission
        fields = [
            "id", "public_id", "phase", "team", "kind", "status", "status_changed_at", "method_name",
            "method_description", "paper_url", "code_url", "file_name", "file_size", "file_sha256",
            "image_reference", "image_digest",
            "created_at", "queued_at", "started_at", "scoring_started_at", "finished_at", "error_message",
            "is_selected", "is_baseline", "disqualified_reason", "scores", "answers", "logs",
        ]
        read_only_fields = fields

    def _user(self):
        request = self.context.get("request")
        return request.user if request else None

    @cached_property
    def _organised(self) -> frozenset[int]:
        # Read once per response: a list shares this serializer for all its rows.
        return organised_challenge_ids(self._user())

    def _organiser(self, obj: Submission) -> bool:
        return obj.phase.track.challenge_id in self._organised

    @extend_schema_field(serializers.DictField(child=ScoreOut(), help_text="By split: public, private."))
    def get_scores(self, obj) -> dict:
        visible = submission_visible_scores(obj, self._user(), organiser=self._organiser(obj))
        return {split: {"score": s.score, "metrics": s.metrics, "conditions": s.conditions,
                        "breakdown": breakdown_view(s.breakdown, s.metrics), "interval": interval_view(s.breakdown)}
                for split, s in visible.items()}

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_answers(self, obj) -> dict:
        return {a.question.key: a.value for a in obj.answers.all()}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_logs(self, obj) -> str | None:
        return submission_visible_logs(obj, self._user(), organiser=self._organiser(obj))
