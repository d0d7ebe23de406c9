from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

import scorers
from arena.challenges.models import Phase
from arena.challenges.selectors import challenges_visible_to
from arena.leaderboards.exports import leaderboard_csv
from arena.leaderboards.models import LeaderboardEntry
from arena.leaderboards.selectors import leaderboard_for_phase, leaderboard_visible_splits


class EntryOut(serializers.ModelSerializer):
    submission = serializers.IntegerField(source="submission_id")

    class Meta:
        model = LeaderboardEntry
        fields = ["rank", "public_rank", "position", "team_name", "method_name", "is_baseline", "score",
                  "metrics", "entries_count", "submitted_at", "submission"]


class LeaderboardOut(serializers.Serializer):
    phase = serializers.IntegerField()
    split = serializers.CharField()
    primary_metric = serializers.CharField()
    greater_is_better = serializers.BooleanField()
    tie_break_metrics = serializers.ListField(child=serializers.CharField())
    visible_splits = serializers.ListField(child=serializers.CharField())
    entries = EntryOut(many=True)


SPLIT = OpenApiParameter("split", str, enum=["public", "private"], default="public")


def _phase(request, phase_id: int) -> Phase:
    return get_object_or_404(Phase.objects.select_related("track__challenge"), pk=phase_id,
                             track__challenge__in=challenges_visible_to(request.user))


class LeaderboardView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[SPLIT], responses=LeaderboardOut, summary="A phase's leaderboard")
    def get(self, request, phase_id: int):
        phase = _phase(request, phase_id)
        split = request.query_params.get("split", "public")
        entries = leaderboard_for_phase(phase=phase, split=split, user=request.user)
        scorer = scorers.get_scorer(phase.track.scorer_key)
        return Response(LeaderboardOut({
            "phase": phase.pk, "split": split, "primary_metric": scorer.primary_metric,
            "greater_is_better": scorer.greater_is_better, "tie_break_metrics": phase.track.tie_break_metrics,
            "visible_splits": leaderboard_visible_splits(phase, request.user), "entries": entries,
        }).data)


class LeaderboardCsvView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[SPLIT], responses={(200, "text/csv"): OpenApiResponse(description="CSV")},
                   summary="A phase's leaderboard as CSV")
    def get(self, request, phase_id: int):
        phase = _phase(request, phase_id)
        split = request.query_params.get("split", "public")
        entries = leaderboard_for_phase(phase=phase, split=split, user=request.user)
        scorer = scorers.get_scorer(phase.track.scorer_key)
        body = leaderboard_csv(entries, metric_names=list(scorer.metric_names), split=split)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="leaderboard-{phase.pk}-{split}.csv"'
        return response
