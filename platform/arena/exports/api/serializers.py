from rest_framework import serializers

from arena.exports.models import Export, ExportKind, ExportStatus
from arena.exports.services import RESULT_SPLITS


class ExportRequestIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    phase = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
                                     help_text="Submissions and results: the phase's id.")
    split = serializers.ChoiceField(choices=[(s, s) for s in RESULT_SPLITS], required=False,
                                    help_text="Results only: the board (default: public, or private on phases "
                                              "scored on a hidden split only). Organisers may export the private "
                                              "board before the reveal.")


class ExportOut(serializers.Serializer):
    id = serializers.IntegerField()
    challenge = serializers.SlugField(source="challenge.slug")
    phase = serializers.IntegerField(source="phase_id", allow_null=True)
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    split = serializers.CharField(help_text="Results only: the board exported; empty otherwise.")
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    size = serializers.IntegerField(help_text="Bytes; 0 until ready.")
    sha256 = serializers.CharField(help_text="Check the downloaded file against this digest; empty until ready.")
    error = serializers.CharField(help_text="Why the build failed; empty otherwise.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.URLField(allow_null=True, help_text="Ready exports: a signed link that stops "
                                        "working at download_expires_at. GET the export again for a new one.")
    download_expires_at = serializers.DateTimeField(allow_null=True)


def export_out(export: Export, *, url: str | None = None, expires_at=None) -> dict:
    export.download_url, export.download_expires_at = url, expires_at
    return ExportOut(export).data
