from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.api.schema import SUBMIT_ERRORS
from arena.challenges.models import Phase
from arena.challenges.selectors import challenges_visible_to
from arena.core.uploads import UploadLimit, limit_uploads
from arena.participation.selectors import data_access_once
from arena.submissions.api.serializers import (
    ContainerSubmissionIn,
    SelectIn,
    SubmissionCreateIn,
    SubmissionOut,
    UploadTicketIn,
    UploadTicketOut,
)
from arena.submissions.selectors import submissions_of_user
from arena.submissions.services.actions import submission_cancel_own, submission_select
from arena.submissions.services.containers import archive_upload_limit, submission_create_container
from arena.submissions.services.create import MethodInfo, submission_create, submission_for_member
from arena.submissions.services.direct_upload import (
    submission_create_container_from_upload,
    submission_create_from_upload,
    submission_upload_ticket,
)
from arena.submissions.services.intake import submission_intake_team
from arena.submissions.services.uploads import prediction_upload_limit

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Retrying with the same key returns the same submission and uses no more of the limits.")


def _method(data: dict) -> MethodInfo:
    return MethodInfo(name=data["method_name"], description=data["method_description"],
                      paper_url=data["paper_url"], code_url=data["code_url"], answers=data.get("answers") or {})


def _visible_phase(user, phase_id: int) -> Phase:
    return get_object_or_404(
        Phase.objects.select_related("track__challenge"),
        pk=phase_id, track__challenge__in=challenges_visible_to(user),
    )


def _submittable_phase(request, phase_id: int) -> Phase:
    """The phase, once the requesting user's team may submit to it: known before the body, so a refusal
    reads none. Checked once per request (the upload limits and the view both ask)."""
    django_request = getattr(request, "_request", request)
    user = django_request.user
    checked = django_request.__dict__.setdefault("_arena_submittable", {})
    if (user.pk, phase_id) not in checked:
        phase = _visible_phase(user, phase_id)
        submission_intake_team(user=user, phase=phase)
        checked[user.pk, phase_id] = phase
    return checked[user.pk, phase_id]


class _PhaseUploadView(APIView):
    """A POST that takes a file for a phase: its body is read within the track's limit, and only
    once the caller may submit there (a refusal reads none of it).

    The limits are set before authentication, as a function called when the body is first read:
    session authentication reads the form's CSRF token from the body, so for a signed-in browser
    the checks run then; for a token they run in ``post`` before ``request.data``.
    """

    def upload_limits(self, phase: Phase) -> dict[str, UploadLimit]:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        # The early refusal and the service ask the same question of the team's standing: read it once.
        with data_access_once():
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            django_request = request._request  # DRF sets its `user` once authenticated
            limit_uploads(django_request, lambda: self.upload_limits(
                _submittable_phase(django_request, kwargs["phase_id"])))
        super().initial(request, *args, **kwargs)


class PhaseSubmissionsView(_PhaseUploadView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    throttle_scope = "submissions"

    def upload_limits(self, phase: Phase) -> dict[str, UploadLimit]:
        return {"file": prediction_upload_limit(phase.track)}

    @extend_schema(
        request={"multipart/form-data": SubmissionCreateIn, "application/json": SubmissionCreateIn},
        responses={201: SubmissionOut, 200: SubmissionOut, **SUBMIT_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        summary="Submit a prediction file to a phase",
    )
    def post(self, request, phase_id: int):
        phase = _submittable_phase(request, phase_id)
        data = SubmissionCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "")
        if "upload_key" in data.validated_data:
            submission, created = submission_create_from_upload(
                user=request.user, phase=phase, upload_key=data.validated_data["upload_key"],
                method=_method(data.validated_data), idempotency_key=key)
        else:
            upload = data.validated_data["file"]
            submission, created = submission_create(
                user=request.user, phase=phase, file_name=upload.name, stream=upload,
                method=_method(data.validated_data), idempotency_key=key)
        body = SubmissionOut(submission, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses=SubmissionOut(many=True), summary="My team's submissions to a phase")
    def get(self, request, phase_id: int):
        phase = _visible_phase(request.user, phase_id)
        qs = submissions_of_user(user=request.user, phase=phase)[:500]
        return Response(SubmissionOut(qs, many=True, context={"request": request}).data)


class PhaseUploadTicketView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=UploadTicketIn, responses={201: UploadTicketOut, **SUBMIT_ERRORS},
                   summary="A presigned POST for a large prediction file or model archive (S3 storage only)")
    def post(self, request, phase_id: int):
        phase = _submittable_phase(request, phase_id)
        data = UploadTicketIn(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = submission_upload_ticket(user=request.user, phase=phase, filename=data.validated_data["filename"],
                                          kind=data.validated_data["kind"])
        return Response(UploadTicketOut(ticket).data, status=status.HTTP_201_CREATED)


class PhaseContainerSubmissionsView(_PhaseUploadView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    throttle_scope = "submissions"

    def upload_limits(self, phase: Phase) -> dict[str, UploadLimit]:
        return {"image_archive": archive_upload_limit(phase.track)}

    @extend_schema(
        request={"multipart/form-data": ContainerSubmissionIn, "application/json": ContainerSubmissionIn},
        responses={201: SubmissionOut, 200: SubmissionOut, **SUBMIT_ERRORS}, parameters=[IDEMPOTENCY_KEY],
        summary="Submit a containerised model (image archive, direct upload's key, or image reference)",
    )
    def post(self, request, phase_id: int):
        phase = _submittable_phase(request, phase_id)
        data = ContainerSubmissionIn(data=request.data)
        data.is_valid(raise_exception=True)
        if "upload_key" in data.validated_data:
            submission, created = submission_create_container_from_upload(
                user=request.user, phase=phase, upload_key=data.validated_data["upload_key"],
                method=_method(data.validated_data), idempotency_key=request.headers.get("Idempotency-Key", ""))
            body = SubmissionOut(submission, context={"request": request}).data
            return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        archive = data.validated_data.get("image_archive")
        submission, created = submission_create_container(
            user=request.user, phase=phase, method=_method(data.validated_data),
            archive=archive, archive_name=archive.name if archive else "",
            archive_size=archive.size if archive else None,
            image_reference=data.validated_data["image_reference"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        body = SubmissionOut(submission, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MySubmissionsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SubmissionOut(many=True), summary="Every submission of my teams (newest 500)")
    def get(self, request):
        qs = submissions_of_user(user=request.user)[:500]
        return Response(SubmissionOut(qs, many=True, context={"request": request}).data)


class SubmissionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SubmissionOut, summary="One submission: status, scores, logs")
    def get(self, request, submission_id: int):
        submission = submission_for_member(user=request.user, submission_id=submission_id)
        return Response(SubmissionOut(submission, context={"request": request}).data)


class SubmissionCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=SubmissionOut, summary="Cancel a waiting or running submission")
    def post(self, request, submission_id: int):
        submission = submission_for_member(user=request.user, submission_id=submission_id)
        submission_cancel_own(user=request.user, submission=submission)
        submission.refresh_from_db()
        return Response(SubmissionOut(submission, context={"request": request}).data)


class SubmissionSelectView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=SelectIn, responses=SubmissionOut, summary="Select or unselect a final entry")
    def post(self, request, submission_id: int):
        data = SelectIn(data=request.data)
        data.is_valid(raise_exception=True)
        submission = submission_for_member(user=request.user, submission_id=submission_id)
        submission_select(user=request.user, submission=submission, selected=data.validated_data["selected"])
        submission.refresh_from_db()
        return Response(SubmissionOut(submission, context={"request": request}).data)
