"""``GET /api/v1/me``: who the token (or session) belongs to, and their teams."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.challenges.selectors import challenges_organised_by
from arena.participation.api.serializers import ErrorSerializer
from arena.tokens.api.serializers import MeOut
from arena.tokens.models import ApiToken
from arena.tokens.selectors import memberships_of


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="me", tags=["account"], responses={200: MeOut, 401: ErrorSerializer},
                   summary="You: your account, your teams, and how this request was authenticated")
    def get(self, request):
        user = request.user
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(MeOut({
            "id": user.pk, "username": user.username, "email": user.email, "affiliation": user.affiliation,
            "organises": list(challenges_organised_by(user).order_by("slug").values_list("slug", flat=True)),
            "teams": memberships_of(user),
            "auth": {"method": "token" if token else "session", "token_name": token.name if token else None,
                     "token_prefix": token.prefix if token else None,
                     "token_expires_at": token.expires_at if token else None},
        }).data)
