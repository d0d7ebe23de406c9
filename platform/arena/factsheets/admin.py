"""Fact sheets are edited on the phase page and read on the submission page (inlines only)."""

from arena.core.admin_scoping import ScopedTabularInline
from arena.factsheets.models import Answer, Question


class QuestionInline(ScopedTabularInline):
    """The phase's fact sheet, edited on the phase page."""

    model = Question
    parent_challenge_path = "track__challenge"
    fields = ("order", "key", "text", "help", "kind", "choices", "required", "on_leaderboard")
    extra = 0


class AnswerInline(ScopedTabularInline):
    """A submission's answers, read-only on the submission page."""

    model = Answer
    parent_challenge_path = "phase__track__challenge"
    fields = ("question", "value")
    readonly_fields = ("question", "value")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False
