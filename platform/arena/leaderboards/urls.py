from django.urls import path

from arena.leaderboards import views

urlpatterns = [
    path("c/<slug:slug>/t/<slug:track_slug>/p/<slug:phase_slug>/leaderboard/", views.leaderboard_page,
         name="leaderboard-page"),
    path("c/<slug:slug>/t/<slug:track_slug>/p/<slug:phase_slug>/leaderboard.csv", views.leaderboard_csv_page,
         name="leaderboard-csv-page"),
]
