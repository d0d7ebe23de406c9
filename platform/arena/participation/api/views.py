"""The licence flow over the API: read the licence and the team's standing, accept, upload the agreement."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.challenges.models import Challenge
from arena.challenges.selectors import challenges_visible_to
from arena.core.errors import NotFound
from arena.datasets.models import Dataset
from arena.participation import services
from arena.participation.api.serializers import (
    AcceptanceSerializer,
    AgreementUploadInputSerializer,
    DatasetAcceptanceSerializer,
    DatasetLicenceStatusSerializer,
    ErrorSerializer,
    LicenceAcceptInputSerializer,
    LicenceStatusSerializer,
)
from arena.participation.selectors import data_access

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


def visible_challenge(user, slug: str) -> Challenge:
    challenge = challenges_visible_to(user).filter(slug=slug).first()
    if challenge is None:
        raise NotFound(f"No challenge '{slug}'.", code="not_found")
    return challenge


class LicenceStatusView(APIView):
    @extend_schema(operation_id="licence_status", tags=["licence"],
                   summary="The current licence and your team's standing",
                   responses={200: LicenceStatusSerializer, 404: ErrorSerializer})
    def get(self, request, slug: str):
        access = data_access(request.user, visible_challenge(request.user, slug))
        return Response(LicenceStatusSerializer(access).data)


class LicenceAcceptView(APIView):
    @extend_schema(operation_id="licence_accept", tags=["licence"],
                   summary="Accept the current licence version for your team",
                   request=LicenceAcceptInputSerializer, responses={201: AcceptanceSerializer, **ERRORS})
    def post(self, request, slug: str):
        challenge = visible_challenge(request.user, slug)
        data = LicenceAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance = services.licence_accept(
            user=request.user, challenge=challenge, full_name=data.validated_data["full_name"],
            affiliation=data.validated_data["affiliation"],
            accepted_on=data.validated_data.get("accepted_on") or timezone.localdate(),
        )
        return Response(AcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)


class LicenceAgreementView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="licence_agreement_upload", tags=["licence"],
                   summary="Upload the signed licence agreement (PDF) for your team",
                   request={"multipart/form-data": AgreementUploadInputSerializer},
                   responses={201: AcceptanceSerializer, **ERRORS})
    def post(self, request, slug: str):
        challenge = visible_challenge(request.user, slug)
        data = AgreementUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance = services.licence_agreement_upload(
            user=request.user, challenge=challenge, upload=data.validated_data["file"]
        )
        return Response(AcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)


def dataset_with_licence(challenge: Challenge, dataset_slug: str) -> Dataset:
    dataset = (Dataset.objects.filter(challenge=challenge, slug=dataset_slug, licences__isnull=False)
               .distinct().first())
    if dataset is None:
        raise NotFound(f"No dataset '{dataset_slug}' with a licence of its own in '{challenge.title}'.",
                       code="not_found")
    return dataset


class DatasetLicenceStatusView(APIView):
    @extend_schema(operation_id="dataset_licence_status", tags=["licence"],
                   summary="A dataset's own licence and your team's standing on it",
                   responses={200: DatasetLicenceStatusSerializer, 404: ErrorSerializer})
    def get(self, request, slug: str, dataset_slug: str):
        challenge = visible_challenge(request.user, slug)
        access = data_access(request.user, challenge, dataset=dataset_with_licence(challenge, dataset_slug))
        return Response(DatasetLicenceStatusSerializer(access).data)


class DatasetLicenceAcceptView(APIView):
    @extend_schema(operation_id="dataset_licence_accept", tags=["licence"],
                   summary="Accept the current version of a dataset's own licence for your team",
                   request=LicenceAcceptInputSerializer, responses={201: DatasetAcceptanceSerializer, **ERRORS})
    def post(self, request, slug: str, dataset_slug: str):
        challenge = visible_challenge(request.user, slug)
        dataset = dataset_with_licence(challenge, dataset_slug)
        data = LicenceAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance = services.licence_accept(
            user=request.user, challenge=challenge, full_name=data.validated_data["full_name"],
            affiliation=data.validated_data["affiliation"],
            accepted_on=data.validated_data.get("accepted_on") or timezone.localdate(), dataset=dataset,
        )
        return Response(DatasetAcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)


class DatasetLicenceAgreementView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="dataset_licence_agreement_upload", tags=["licence"],
                   summary="Upload the signed copy (PDF) of a dataset's own licence for your team",
                   request={"multipart/form-data": AgreementUploadInputSerializer},
                   responses={201: DatasetAcceptanceSerializer, **ERRORS})
    def post(self, request, slug: str, dataset_slug: str):
        challenge = visible_challenge(request.user, slug)
        dataset = dataset_with_licence(challenge, dataset_slug)
        data = AgreementUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance = services.licence_agreement_upload(
            user=request.user, challenge=challenge, upload=data.validated_data["file"], dataset=dataset,
        )
        return Response(DatasetAcceptanceSerializer(acceptance).data, status=status.HTTP_201_CREATED)
