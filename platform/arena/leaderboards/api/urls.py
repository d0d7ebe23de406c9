from django.urls import path

from arena.leaderboards.api import views

urlpatterns = [
    path("phases/<int:phase_id>/leaderboard", views.LeaderboardView.as_view(), name="leaderboard"),
    path("phases/<int:phase_id>/leaderboard.csv", views.LeaderboardCsvView.as_view(), name="leaderboard-csv"),
]
