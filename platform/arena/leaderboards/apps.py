from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "arena.leaderboards"
    label = "leaderboards"
    verbose_name = "Leaderboards"
