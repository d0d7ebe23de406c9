"""Reading fact sheets."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from arena.factsheets.models import Answer, Question


def factsheet_questions(phase) -> QuerySet[Question]:
    return Question.objects.filter(phase=phase).order_by("order", "id")


def factsheet_answers_of(submission_ids: Iterable[int], *, leaderboard_only: bool = False) -> dict[int, dict[str, str]]:
    """``{submission id: {question key: answer}}`` for these submissions, in one query."""
    answers = Answer.objects.filter(submission_id__in=list(submission_ids))
    if leaderboard_only:
        answers = answers.filter(question__on_leaderboard=True)
    found: dict[int, dict[str, str]] = {}
    for submission_id, key, value in answers.order_by("question__order", "question_id").values_list(
            "submission_id", "question__key", "value"):
        found.setdefault(submission_id, {})[key] = value
    return found
