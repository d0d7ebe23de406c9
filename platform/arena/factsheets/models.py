"""Fact sheets: the questions a phase asks with every submission, and each submission's answers."""

from __future__ import annotations

from django.db import models


class QuestionKind(models.TextChoices):
    TEXT = "text", "Text"
    URL = "url", "URL"
    YES_NO = "yes_no", "Yes or no"
    CHOICE = "choice", "One of a list"


class Question(models.Model):
    """One question of a phase's fact sheet, e.g. "Uses external data?" (yes or no, required)."""

    phase = models.ForeignKey("challenges.Phase", on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=50, help_text="How scripts name the answer, e.g. external_data "
                           "(the CLI: --answer external_data=yes).")
    text = models.CharField(max_length=300)
    help = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=16, choices=QuestionKind.choices, default=QuestionKind.TEXT)
    choices = models.TextField(blank=True, help_text="\"One of a list\" only: the allowed answers, one per line.")
    required = models.BooleanField(default=True)
    on_leaderboard = models.BooleanField(default=False, help_text="Show the answer as a leaderboard column.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["phase", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["phase", "key"], name="question_key_unique")]

    def __str__(self) -> str:
        return f"{self.key}: {self.text}"

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class Answer(models.Model):
    """A submission's answer to one question, as given (normalised: yes/no, a listed choice)."""

    submission = models.ForeignKey("submissions.Submission", on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    value = models.CharField(max_length=2000, blank=True)

    class Meta:
        ordering = ["submission", "question__order", "question_id"]
        constraints = [models.UniqueConstraint(fields=["submission", "question"], name="one_answer_per_question")]

    def __str__(self) -> str:
        return f"{self.question.key}={self.value}"
