from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

import scorers
from arena.challenges.models import BoardVisibility, Phase
from arena.challenges.selectors import challenge_is_visible_to
from arena.challenges.visibility import FROZEN, default_split
from arena.core.errors import DomainError
from arena.leaderboards.caching import BoardRead, board_csv, board_phase_and_snapshots, board_read, board_response
from arena.leaderboards.models import LeaderboardEntry


class BoardIntervalOut(serializers.Serializer):
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    level = serializers.FloatField(help_text="Confidence level, e.g. 0.95.")


class EntryOut(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="Competition rank; null for baselines.")
    public_rank = serializers.IntegerField(allow_null=True, help_text="On the private board: the public rank.")
    position = serializers.IntegerField()
    team_name = serializers.CharField()
    method_name = serializers.CharField()
    is_baseline = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True)
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    entries_count = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    submission = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.CharField(),
                                    help_text="Fact-sheet answers the phase shows on its board, by question key.")
    conditions = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="On a phase with a robustness protocol: the entry's score under each condition, in protocol "
        "order (null: the model failed under it); empty otherwise.")
    # Board statistics (arena.leaderboards.statistics): present once computed after the board changed.
    interval = BoardIntervalOut(required=False, help_text="Percentile bootstrap interval of the score.")
    p_vs_next = serializers.FloatField(
        required=False, allow_null=True, help_text="One-sided paired bootstrap p-value against the next ranked "
        "team: the fraction of resamples where it scores at least as well; null for baselines and the last team.")
    rank_range = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True,
                                       help_text="[best, worst] rank of the team over the resamples.")
    tie_group = serializers.IntegerField(required=False, allow_null=True, help_text="Teams not significantly "
                                         "apart from the team just above share its group (1, 2, ...).")


class LeaderboardOut(serializers.Serializer):
    phase = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Rows on the whole board.")
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    split = serializers.CharField()
    board_visibility = serializers.ChoiceField(
        choices=BoardVisibility.choices, help_text="What teams see before the results are revealed.")
    revealed = serializers.BooleanField(help_text="Whether the phase's results are revealed.")
    frozen_at = serializers.DateTimeField(
        allow_null=True, help_text="Set when the rows are the board as frozen at this time (later entries "
        "appear at the reveal).")
    primary_metric = serializers.CharField()
    greater_is_better = serializers.BooleanField()
    tie_break_metrics = serializers.ListField(child=serializers.CharField())
    visible_splits = serializers.ListField(child=serializers.CharField())
    refreshed_at = serializers.DateTimeField(allow_null=True)
    entries = EntryOut(many=True)


SPLIT = OpenApiParameter("split", str, enum=["public", "private", "frozen"],
                         description="Default: public, or private on phases scored on a hidden split only. "
                         "frozen: organisers only, the public board as teams see it while frozen.")
LIMIT = OpenApiParameter("limit", int, default=100, description="Rows per page, at most 1000.")
OFFSET = OpenApiParameter("offset", int, default=0, description="Rows to skip from the top.")
MAX_LIMIT = 1000
#: Larger offsets overflow the databases' integers; no board comes near it.
MAX_OFFSET = 2**31 - 1


def _window(request) -> tuple[int, int]:
    try:
        limit = int(request.GET.get("limit", 100))
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        raise DomainError("limit and offset must be whole numbers, e.g. ?limit=100&offset=200.",
                          code="invalid", details={"field": "limit"}) from None
    if not (1 <= limit <= MAX_LIMIT) or not (0 <= offset <= MAX_OFFSET):
        raise DomainError(f"limit must lie in 1..{MAX_LIMIT} and offset in 0..{MAX_OFFSET}.",
                          code="invalid", details={"field": "limit"})
    return limit, offset


def _phase(request, phase_id: int) -> tuple[Phase, dict]:
    # Boards are read far more than anything else: one indexed query of the columns a board read needs and the
    # phase's snapshots, visibility checked in Python.
    phase, snapshots = board_phase_and_snapshots(phase_id=phase_id)
    if phase is None or not challenge_is_visible_to(phase.track.challenge, request.user):
        raise Http404("No such phase.")
    return phase, snapshots


def leaderboard_read(request, phase_id: int, *, representation: str) -> tuple[BoardRead, tuple[int, int]]:
    """What a board request ("api": a page of rows, "csv": the whole board) reads before any row: the phase
    (404 when its challenge is not visible), the split asked for, the page window (400 when malformed) and the
    board the reader may see. ``request``: DRF's or Django's (``anonymous_reads`` asks before DRF, and leaves
    its answer on a request it passes on)."""
    read_before = getattr(request, "board_read_before_view", None)
    if read_before is not None:
        return read_before
    phase, snapshots = _phase(request, phase_id)
    split = request.GET.get("split") or default_split(phase)
    window = _window(request) if representation == "api" else (0, 0)
    return board_read(phase=phase, split=split, user=request.user, snapshots=snapshots), window


def _stamp(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class LeaderboardView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[SPLIT, LIMIT, OFFSET], responses=LeaderboardOut, summary="A phase's leaderboard")
    def get(self, request, phase_id: int):
        read, (limit, offset) = leaderboard_read(request, phase_id, representation="api")
        return board_response(request, read, representation="api", render=lambda: self._body(read, limit, offset))

    def _body(self, read: BoardRead, limit: int, offset: int):
        if read.refusal is not None:
            return self.handle_exception(read.refusal)
        phase, snapshot = read.phase, read.snapshot
        scorer = scorers.get_scorer(phase.track.scorer_key)
        rows = LeaderboardEntry.objects.filter(phase=phase, split=read.board).order_by("position").values_list(
            "row_json", flat=True)[offset:offset + limit]
        head = json.dumps({
            "phase": phase.pk, "count": snapshot.rows if snapshot else 0, "offset": offset, "limit": limit,
            "split": read.split, "board_visibility": phase.board_visibility, "revealed": phase.is_revealed(),
            "frozen_at": _stamp(phase.frozen_at) if read.board == FROZEN else None,
            "primary_metric": scorer.primary_metric,
            "greater_is_better": scorer.greater_is_better, "tie_break_metrics": phase.track.tie_break_metrics,
            "visible_splits": read.visible_splits,
            "refreshed_at": _stamp(snapshot.refreshed_at) if snapshot else None,
        }, separators=(",", ":"))
        # The rows come as JSON text (their stored head and their place, ``LeaderboardEntry.row_json``): spliced in.
        body = head[:-1] + ',"entries":[' + ",".join(rows) + "]}"
        return HttpResponse(body, content_type="application/json")


class LeaderboardCsvView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[SPLIT], responses={(200, "text/csv"): OpenApiResponse(description="CSV")},
                   summary="A phase's leaderboard as CSV")
    def get(self, request, phase_id: int):
        read, _ = leaderboard_read(request, phase_id, representation="csv")

        def render():
            if read.refusal is not None:
                return self.handle_exception(read.refusal)
            response = HttpResponse(board_csv(read), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = \
                f'attachment; filename="leaderboard-{read.phase.pk}-{read.split}.csv"'
            return response

        return board_response(request, read, representation="csv", render=render)
