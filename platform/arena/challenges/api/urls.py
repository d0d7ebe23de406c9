from django.urls import path

from arena.challenges.api import organiser_views, readiness_views, views

urlpatterns = [
    path("challenges", views.ChallengeListView.as_view(), name="challenges"),
    path("challenges/<slug:slug>", views.ChallengeDetailView.as_view(), name="challenge-detail"),
    path("challenges/<slug:slug>/team", views.MyTeamView.as_view(), name="challenge-my-team"),
    path("phases/<int:phase_id>", views.PhaseDetailView.as_view(), name="phase-detail"),
    # Organisers only (404 for anyone else).
    path("challenges/<slug:slug>/teams", organiser_views.ChallengeTeamsView.as_view(), name="organiser-teams"),
    path("challenges/<slug:slug>/readiness", readiness_views.ChallengeReadinessView.as_view(),
         name="organiser-readiness"),
    path("challenges/<slug:slug>/teams/<int:team_id>/decision", organiser_views.TeamDecisionView.as_view(),
         name="organiser-team-decision"),
    path("phases/<int:phase_id>/reveal", organiser_views.PhaseRevealView.as_view(), name="organiser-phase-reveal"),
    path("phases/<int:phase_id>/rerun", organiser_views.PhaseRerunView.as_view(), name="organiser-phase-rerun"),
    path("phases/<int:phase_id>/setup", organiser_views.PhaseSetupView.as_view(), name="organiser-phase-setup"),
    path("phases/<int:phase_id>/baselines", organiser_views.PhaseBaselinesView.as_view(),
         name="organiser-phase-baselines"),
]
