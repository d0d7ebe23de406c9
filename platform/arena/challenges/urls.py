from django.urls import path

from arena.challenges import views

urlpatterns = [
    path("", views.challenge_list, name="challenge-list"),
    path("c/<slug:slug>/", views.challenge_detail, name="challenge-detail"),
    path("c/<slug:slug>/t/<slug:track_slug>/", views.track_detail, name="track-detail"),
    path("c/<slug:slug>/readiness/", views.challenge_readiness_page, name="challenge-readiness"),
]
