"""Checking and storing a submission's fact-sheet answers. The intake calls ``factsheet_clean`` before
it reads any file, so a refused answer changes nothing."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from arena.core.errors import DomainError
from arena.factsheets.models import Answer, Question, QuestionKind
from arena.factsheets.selectors import factsheet_questions

MAX_ANSWER = 2000
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


def _refuse(message: str, question: str | None = None) -> DomainError:
    return DomainError(message, code="invalid_answers", details={"field": "answers", "question": question})


def factsheet_clean(phase, raw: Mapping[str, object] | None) -> dict[str, str]:
    """The answers as stored: every key a question of the phase, every required one answered, each value of
    its question's kind (yes/no normalised to "yes"/"no"). Raises naming the question and how to fix it."""
    raw = dict(raw or {})
    questions = list(factsheet_questions(phase))
    keys = {q.key for q in questions}
    unknown = sorted(str(k) for k in raw if k not in keys)
    if unknown:
        asked = ", ".join(q.key for q in questions) or "nothing"
        raise _refuse(f"Unknown fact-sheet question '{unknown[0]}'; this phase asks: {asked}.", unknown[0])
    cleaned = {}
    for question in questions:
        value = raw.get(question.key)
        value = "" if value is None else (("yes" if value else "no") if isinstance(value, bool) else str(value).strip())
        if not value:
            if question.required:
                raise _refuse(f"Answer the fact-sheet question '{question.key}' ({question.text}); it is required.",
                              question.key)
            continue
        cleaned[question.key] = _value(question, value)
    return cleaned


def _value(question: Question, value: str) -> str:
    where = f"The answer to '{question.key}'"
    if len(value) > MAX_ANSWER:
        raise _refuse(f"{where} is {len(value)} characters long; keep it under {MAX_ANSWER}.", question.key)
    if question.kind == QuestionKind.YES_NO:
        if value.lower() in YES:
            return "yes"
        if value.lower() in NO:
            return "no"
        raise _refuse(f"{where} must be yes or no, not '{value[:40]}'.", question.key)
    if question.kind == QuestionKind.URL:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise _refuse(f"{where} must be a web address starting with https:// or http://.",
                          question.key) from None
    if question.kind == QuestionKind.CHOICE and value not in question.choice_list:
        raise _refuse(f"{where} must be one of: {', '.join(question.choice_list)}.", question.key)
    return value


def factsheet_save(*, submission, answers: Mapping[str, str]) -> None:
    """Store answers already cleaned by ``factsheet_clean`` for ``submission``'s phase."""
    if not answers:
        return
    questions = {q.key: q for q in factsheet_questions(submission.phase)}
    Answer.objects.bulk_create([Answer(submission=submission, question=questions[key], value=value)
                                for key, value in answers.items()])
