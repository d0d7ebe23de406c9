from django.urls import path

from arena.exports.api import views

urlpatterns = [
    path("challenges/<slug:slug>/exports", views.ChallengeExportsView.as_view(), name="challenge-exports"),
    path("exports/<int:export_id>", views.ExportDetailView.as_view(), name="export-detail"),
]
