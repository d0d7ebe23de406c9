from django.apps import AppConfig


class ParticipationConfig(AppConfig):
    name = "arena.participation"
    label = "participation"
    verbose_name = "Participation"
