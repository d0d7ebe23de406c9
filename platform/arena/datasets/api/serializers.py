from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from arena.datasets.models import DatasetFile


class DatasetFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = DatasetFile
        fields = ["id", "name", "kind", "size", "sha256", "hidden_from_participants"]


class DatasetLicenceSerializer(serializers.Serializer):
    """A dataset's own licence and the requesting team's standing on it."""

    title = serializers.CharField(source="licence.title")
    version = serializers.IntegerField(source="licence.version")
    requires_signed_agreement = serializers.BooleanField(source="licence.requires_signed_agreement")
    requires_approval = serializers.BooleanField(source="licence.requires_approval")
    accepted = serializers.BooleanField(help_text="Whether your team accepted the current version.")
    missing = serializers.CharField(
        source="refusal.code", allow_null=True, default=None,
        help_text="The step still missing: dataset_licence_not_accepted, dataset_agreement_missing, "
                  "dataset_approval_pending; null when none.",
    )
    message = serializers.CharField(source="refusal.message", allow_null=True, default=None,
                                    help_text="What to do next; null when nothing.")


class DatasetSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    description = serializers.CharField()
    licence = serializers.SerializerMethodField(
        help_text="The dataset's own licence, needed in addition to the challenge licence to download "
                  "its files; null when the challenge licence alone covers it.")
    files = DatasetFileSerializer(source="visible_files", many=True)

    @extend_schema_field(DatasetLicenceSerializer(allow_null=True))
    def get_licence(self, dataset) -> dict | None:
        standing = getattr(dataset, "licence_standing", None)
        if standing is None or standing.licence is None:
            return None
        return DatasetLicenceSerializer(standing).data


class DownloadUrlSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Signed link; it stops working at expires_at.")
    expires_at = serializers.DateTimeField()
    sha256 = serializers.CharField(help_text="Check the downloaded file against this digest.")
    size = serializers.IntegerField(help_text="Size in bytes.")
