from rest_framework import serializers

from arena.datasets.models import DatasetFile


class DatasetFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = DatasetFile
        fields = ["id", "name", "kind", "size", "sha256", "hidden_from_participants"]


class DatasetSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    description = serializers.CharField()
    files = DatasetFileSerializer(source="visible_files", many=True)


class DownloadUrlSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Signed link; it stops working at expires_at.")
    expires_at = serializers.DateTimeField()
    sha256 = serializers.CharField(help_text="Check the downloaded file against this digest.")
    size = serializers.IntegerField(help_text="Size in bytes.")
