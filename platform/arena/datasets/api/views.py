"""Datasets over the API: list a challenge's files, and ask for a signed download URL."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.datasets.api.serializers import DatasetSerializer, DownloadUrlSerializer
from arena.datasets.models import DownloadChannel
from arena.datasets.selectors import datasets_for
from arena.datasets.services import dataset_file_download_link
from arena.participation.api.serializers import ErrorSerializer
from arena.participation.api.views import visible_challenge
from arena.participation.selectors import data_access, datasets_with_licence_standing


class ChallengeDatasetsView(APIView):
    @extend_schema(operation_id="challenge_datasets", tags=["datasets"],
                   summary="A challenge's datasets with the files you may see (sizes, sha256)",
                   responses={200: DatasetSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, slug: str):
        challenge = visible_challenge(request.user, slug)
        datasets = datasets_with_licence_standing(data_access(request.user, challenge),
                                                  datasets_for(challenge, request.user))
        return Response(DatasetSerializer(datasets, many=True).data)


class DatasetFileDownloadUrlView(APIView):
    @extend_schema(operation_id="dataset_file_download_url", tags=["datasets"],
                   summary="A short-lived signed URL for one dataset file (logged)", request=None,
                   responses={200: DownloadUrlSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request, file_id: int):
        link = dataset_file_download_link(
            user=request.user, dataset_file_id=file_id, ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""), channel=DownloadChannel.API,
        )
        return Response(DownloadUrlSerializer({
            "url": request.build_absolute_uri(link.url), "expires_at": link.expires_at,
            "sha256": link.sha256, "size": link.size,
        }).data)
