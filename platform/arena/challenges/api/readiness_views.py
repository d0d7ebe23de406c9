"""The readiness check over the API, for a challenge's organisers (404, as for an unknown challenge, to
anyone else, signed in or not)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.challenges.api.organiser_views import organised_challenge
from arena.challenges.readiness import challenge_readiness
from arena.participation.api.serializers import ErrorSerializer


class ProblemPlaceOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["phase", "track", "dataset", "challenge"])
    id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()


class ProblemOut(serializers.Serializer):
    where = ProblemPlaceOut()
    message = serializers.CharField(help_text="What is wrong and what to do about it.")


class ReadinessOut(serializers.Serializer):
    ready = serializers.BooleanField(help_text="True when teams can submit to every phase and be scored.")
    problems = ProblemOut(many=True)


class ChallengeReadinessView(APIView):
    # Anonymous callers get the 404 of an unknown challenge too, not a sign-in prompt.
    permission_classes = [AllowAny]

    @extend_schema(operation_id="challenge_readiness", tags=["organisers"],
                   responses={200: ReadinessOut, 404: ErrorSerializer},
                   summary="Organisers: what to fix before the challenge opens (references, assets, dates, licence)")
    def get(self, request, slug: str):
        readiness = challenge_readiness(organised_challenge(request.user, slug))
        return Response(ReadinessOut(readiness.to_json()).data)
