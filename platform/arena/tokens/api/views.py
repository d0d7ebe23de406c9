"""``GET /api/v1/me``: who the token (or session) belongs to, their teams with their next step and
limits, and their newest submissions (the dashboard at ``/me/``, for scripts)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.challenges.selectors import challenges_organised_by
from arena.participation.api.serializers import ErrorSerializer
from arena.participation.standing import participant_dashboard
from arena.tokens.api.serializers import MeOut
from arena.tokens.models import ApiToken


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="me", tags=["account"], responses={200: MeOut, 401: ErrorSerializer},
                   summary="You: your account, your teams with their next step and limits, your newest "
                           "submissions, and how this request was authenticated")
    def get(self, request):
        user = request.user
        token = request.auth if isinstance(request.auth, ApiToken) else None
        dashboard = participant_dashboard(user=user)
        return Response(MeOut({
            "id": user.pk, "username": user.username, "email": user.email, "affiliation": user.affiliation,
            "organises": list(challenges_organised_by(user).order_by("slug").values_list("slug", flat=True)),
            "teams": dashboard.teams, "submissions": dashboard.submissions,
            "auth": {"method": "token" if token else "session", "token_name": token.name if token else None,
                     "token_prefix": token.prefix if token else None,
                     "token_expires_at": token.expires_at if token else None},
        }).data)
