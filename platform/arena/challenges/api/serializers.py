"""Output shapes of the challenge catalogue: challenges, tracks (with their metric), phases, my team."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

import scorers
from arena.challenges.models import Challenge, Phase, Track
from arena.challenges.selectors import candidate_lists_visible_to
from arena.challenges.visibility import describe_board, describe_entry_rule
from arena.factsheets.models import QuestionKind
from arena.factsheets.selectors import factsheet_questions


class PhaseSummaryOut(serializers.ModelSerializer):
    is_open = serializers.SerializerMethodField(help_text="Whether the phase takes submissions now.")
    private_revealed = serializers.SerializerMethodField(
        help_text="Whether the results are revealed: the private leaderboard, and scores of hidden or frozen boards.")
    has_public_split = serializers.BooleanField(
        help_text="False for phases scored on a hidden split only (no public leaderboard).")

    class Meta:
        model = Phase
        fields = ["id", "slug", "title", "kind", "opens_at", "closes_at", "is_open", "private_revealed",
                  "board_visibility", "frozen_at", "reveal_at_close", "entry_rule", "max_selected", "has_public_split"]

    def get_is_open(self, phase: Phase) -> bool:
        return phase.opens_at <= timezone.now() < phase.closes_at

    def get_private_revealed(self, phase: Phase) -> bool:
        return phase.is_revealed()


class OptionOut(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.JSONField()
    help = serializers.CharField()


class ScorerOut(serializers.Serializer):
    """The track's official metric, as a participant needs to know it."""

    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(help_text="How a submission is scored.")
    primary_metric = serializers.CharField(help_text="The column the leaderboard ranks by.")
    greater_is_better = serializers.BooleanField()
    metric_names = serializers.ListField(child=serializers.CharField(), help_text="Every metric reported.")
    submission_format = serializers.CharField(help_text="What a prediction file must look like.")
    options = OptionOut(many=True, help_text="This track's scorer options, with their meaning.")


class LimitsOut(serializers.Serializer):
    accepted_kinds = serializers.ListField(child=serializers.CharField())
    max_upload_mb = serializers.IntegerField()
    allow_compressed = serializers.BooleanField(help_text="Whether .gz and .zip uploads are accepted.")
    max_per_day = serializers.IntegerField(allow_null=True, help_text="Per team and phase; null: no limit.")
    max_total = serializers.IntegerField(allow_null=True)
    max_in_flight = serializers.IntegerField(allow_null=True, help_text="Submissions being scored at once.")
    counted = serializers.CharField(help_text="Which submissions count against the limits.")


class ContainerLimitsOut(serializers.Serializer):
    wall_seconds = serializers.IntegerField()
    memory_mb = serializers.IntegerField()
    cpus = serializers.FloatField()
    gpus = serializers.IntegerField()
    max_image_mb = serializers.IntegerField()


def _scorer_out(track: Track) -> dict | None:
    try:
        scorer = scorers.get_scorer(track.scorer_key)
        values = scorer.validate_options(track.scorer_options)
    except scorers.ScorerError:
        return None
    helps = {option.name: option.help for option in scorer.options}
    return {
        "key": scorer.key, "title": scorer.title, "description": scorer.description,
        "primary_metric": scorer.primary_metric, "greater_is_better": scorer.greater_is_better,
        "metric_names": list(scorer.metric_names), "submission_format": scorer.pred_format,
        "options": [{"name": name, "value": list(value) if isinstance(value, tuple) else value,
                     "help": helps.get(name, "")} for name, value in values.items()],
    }


class TrackRulesOut(serializers.ModelSerializer):
    """A track with its metric explained and its limits."""

    scorer = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    container_limits = serializers.SerializerMethodField()

    class Meta:
        model = Track
        fields = ["slug", "title", "summary", "description", "scorer", "tie_break_metrics", "limits",
                  "container_limits"]

    @extend_schema_field(ScorerOut(allow_null=True, help_text="Null when the scorer is not installed here."))
    def get_scorer(self, track: Track) -> dict | None:
        return _scorer_out(track)

    @extend_schema_field(LimitsOut)
    def get_limits(self, track: Track) -> dict:
        return {
            "accepted_kinds": [str(kind) for kind in track.accepted_kinds], "max_upload_mb": track.max_upload_mb,
            "allow_compressed": track.allow_compressed, "max_per_day": track.max_per_day,
            "max_total": track.max_total, "max_in_flight": track.max_in_flight,
            "counted": "Per team and phase; failed and cancelled submissions do not count.",
        }

    @extend_schema_field(ContainerLimitsOut(allow_null=True, help_text="Null when the track takes files only."))
    def get_container_limits(self, track: Track) -> dict | None:
        if not track.accepts_containers:
            return None
        return {"wall_seconds": track.container_wall_seconds, "memory_mb": track.container_memory_mb,
                "cpus": float(track.container_cpus), "gpus": track.container_gpus,
                "max_image_mb": track.max_image_mb}


class TrackOut(TrackRulesOut):
    phases = PhaseSummaryOut(many=True)

    class Meta(TrackRulesOut.Meta):
        fields = [*TrackRulesOut.Meta.fields, "phases"]


class TrackSummaryOut(serializers.ModelSerializer):
    scorer_key = serializers.CharField()
    phases = PhaseSummaryOut(many=True)

    class Meta:
        model = Track
        fields = ["slug", "title", "scorer_key", "phases"]


class ChallengeSummaryOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The challenge's web page.")
    tracks = TrackSummaryOut(many=True)

    class Meta:
        model = Challenge
        fields = ["slug", "title", "summary", "starts_at", "ends_at", "entry_deadline", "is_published",
                  "requires_approval", "requires_signed_agreement", "max_team_size", "url", "tracks"]
        extra_kwargs = {"entry_deadline": {
            "help_text": "After it no team may be formed or joined; null: entry is open until ends_at."}}

    def get_url(self, challenge: Challenge) -> str:
        request = self.context.get("request")
        path = reverse("challenge-detail", args=[challenge.slug])
        return request.build_absolute_uri(path) if request else path


class LicenceSummaryOut(serializers.Serializer):
    version = serializers.IntegerField()
    title = serializers.CharField()


class ChallengeOut(ChallengeSummaryOut):
    licence = serializers.SerializerMethodField(help_text="The current licence; its text is at .../licence.")
    tracks = TrackOut(many=True)

    class Meta(ChallengeSummaryOut.Meta):
        fields = [*ChallengeSummaryOut.Meta.fields[:-1], "overview", "rules", "licence", "tracks"]

    @extend_schema_field(LicenceSummaryOut(allow_null=True))
    def get_licence(self, challenge: Challenge) -> dict | None:
        licence = self.context.get("licence")
        return {"version": licence.version, "title": licence.title} if licence else None


class LimitUseOut(serializers.Serializer):
    limit = serializers.ChoiceField(choices=["total", "per_day", "in_flight"])
    allowed = serializers.IntegerField(allow_null=True)
    used = serializers.IntegerField()
    left = serializers.IntegerField(allow_null=True)
    resets_at = serializers.DateTimeField(allow_null=True)
    text = serializers.CharField(source="describe", help_text='e.g. "3 of 5 left today (resets 00:00 UTC)"')


class QuestionOut(serializers.Serializer):
    key = serializers.CharField()
    text = serializers.CharField()
    help = serializers.CharField()
    kind = serializers.ChoiceField(choices=QuestionKind.choices, help_text="text, url, yes_no or choice.")
    choices = serializers.ListField(child=serializers.CharField(), source="choice_list",
                                    help_text="The allowed answers of a choice question.")
    required = serializers.BooleanField()


class PhaseOut(PhaseSummaryOut):
    challenge = serializers.CharField(source="track.challenge.slug")
    track = TrackRulesOut()
    visible_splits = serializers.SerializerMethodField(help_text="Leaderboard splits you may read.")
    candidates_url = serializers.SerializerMethodField(
        help_text="The published candidate list (CSV) uploads must cover exactly, or null.")
    my_limits = serializers.SerializerMethodField(
        help_text="Your team's use of this phase's limits (null without a team): allowed is null for no limit.")
    board_rule = serializers.SerializerMethodField(help_text="What teams see before the reveal, in words.")
    entry_rule_text = serializers.SerializerMethodField(help_text="Which entry of each team counts, in words.")
    fact_sheet = serializers.SerializerMethodField(
        help_text="Questions asked with every submission: send the answers as `answers` (key -> answer).")

    class Meta(PhaseSummaryOut.Meta):
        fields = [*PhaseSummaryOut.Meta.fields, "challenge", "track", "visible_splits", "candidates_url", "my_limits",
                  "board_rule", "entry_rule_text", "fact_sheet"]

    @extend_schema_field(QuestionOut(many=True))
    def get_fact_sheet(self, phase: Phase) -> list[dict]:
        return QuestionOut(factsheet_questions(phase), many=True).data

    def get_board_rule(self, phase: Phase) -> str:
        return describe_board(phase)

    def get_entry_rule_text(self, phase: Phase) -> str:
        return describe_entry_rule(phase)

    @extend_schema_field(LimitUseOut(many=True, allow_null=True))
    def get_my_limits(self, phase: Phase) -> list[dict] | None:
        limits = self.context.get("limits")
        return None if limits is None else LimitUseOut(limits, many=True).data

    def get_candidates_url(self, phase: Phase) -> str | None:
        request = self.context.get("request")
        user = request.user if request else None
        if not candidate_lists_visible_to(user, phase.track.challenge).filter(pk=phase.pk).exists():
            return None
        path = reverse("phase-candidates", args=[phase.track.challenge.slug, phase.track.slug, phase.slug])
        return request.build_absolute_uri(path) if request else path

    def get_visible_splits(self, phase: Phase) -> list[str]:
        return self.context["visible_splits"]


class MemberOut(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    joined_at = serializers.DateTimeField()


class TeamOut(serializers.Serializer):
    """The requesting person's team in one challenge and where it stands."""

    id = serializers.IntegerField(source="team.id")
    name = serializers.CharField(source="team.name")
    challenge = serializers.CharField(source="challenge.slug")
    role = serializers.CharField(help_text="Your role: owner or member.")
    invite_code = serializers.CharField(source="team.invite_code", help_text="Others join the team with it.")
    members = MemberOut(many=True)
    participation_status = serializers.CharField(allow_null=True)
    licence_version = serializers.IntegerField(allow_null=True, help_text="The current licence version.")
    licence_accepted = serializers.BooleanField(help_text="Whether the team accepted the current version.")
    can_download = serializers.BooleanField()
    refusal = serializers.CharField(allow_null=True, help_text="Why downloads are refused, and what to do.")
