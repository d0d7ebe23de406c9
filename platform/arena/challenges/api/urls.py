from django.urls import path

from arena.challenges.api import views

urlpatterns = [
    path("challenges", views.ChallengeListView.as_view(), name="challenges"),
    path("challenges/<slug:slug>", views.ChallengeDetailView.as_view(), name="challenge-detail"),
    path("challenges/<slug:slug>/team", views.MyTeamView.as_view(), name="challenge-my-team"),
    path("phases/<int:phase_id>", views.PhaseDetailView.as_view(), name="phase-detail"),
]
