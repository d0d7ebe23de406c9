from django.urls import path

from arena.submissions import views

urlpatterns = [
    path("c/<slug:slug>/t/<slug:track_slug>/p/<slug:phase_slug>/", views.phase_page, name="phase-page"),
    path("c/<slug:slug>/t/<slug:track_slug>/p/<slug:phase_slug>/candidates.csv", views.phase_candidates,
         name="phase-candidates"),
    path("submissions/<int:submission_id>/", views.submission_page, name="submission-page"),
    path("submissions/<int:submission_id>/<str:split>/explanation.csv", views.submission_explanation_csv,
         name="submission-explanation-csv"),
    path("submissions/<int:submission_id>/cancel/", views.submission_cancel_page, name="submission-cancel-page"),
    path("submissions/<int:submission_id>/select/", views.submission_select_page, name="submission-select-page"),
]
