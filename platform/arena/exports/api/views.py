"""Exports over the API: organisers ask for one, then poll it for a signed download link.

Anyone else (anonymous, participants, organisers of other challenges) gets the 404 of an
unknown challenge or export: whether it exists is not theirs to know.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.challenges.models import Phase
from arena.core.errors import NotFound
from arena.exports.api.serializers import ExportOut, ExportRequestIn, export_out
from arena.exports.models import ExportStatus
from arena.exports.selectors import exports_visible_to, organised_challenge
from arena.exports.services import export_download_link, export_request
from arena.participation.api.serializers import ErrorSerializer


class ChallengeExportsView(APIView):
    permission_classes = [AllowAny]  # refusals are the 404 below, the same for everyone not an organiser

    @extend_schema(operation_id="challenge_export_create", tags=["exports"],
                   summary="Organisers: export the roster, a phase's submissions (zip) or a results table (CSV)",
                   request=ExportRequestIn,
                   responses={202: ExportOut, 400: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request, slug: str):
        challenge = organised_challenge(request.user, slug)
        if challenge is None:
            raise NotFound(f"No challenge '{slug}'.", code="not_found")
        data = ExportRequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        phase = None
        if data.validated_data.get("phase") is not None:
            phase_id = data.validated_data["phase"]
            phase = Phase.objects.select_related("track").filter(pk=phase_id, track__challenge=challenge).first()
            if phase is None:
                raise NotFound(f"No phase {phase_id} in '{slug}'.", code="not_found", details={"field": "phase"})
        export = export_request(actor=request.user, challenge=challenge, kind=data.validated_data["kind"],
                                phase=phase, split=data.validated_data.get("split"))
        return Response(export_out(export), status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="export_detail", tags=["exports"],
                   summary="Organisers: an export's status and, once ready, a short-lived signed download URL",
                   responses={200: ExportOut, 404: ErrorSerializer})
    def get(self, request, export_id: int):
        export = exports_visible_to(request.user).select_related("challenge").filter(pk=export_id).first()
        if export is None:
            raise NotFound(f"No export {export_id}.", code="not_found")
        if export.status != ExportStatus.READY:
            return Response(export_out(export))
        link = export_download_link(actor=request.user, export=export)
        return Response(export_out(export, url=request.build_absolute_uri(link.url), expires_at=link.expires_at))
