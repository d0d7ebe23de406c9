from django.urls import path

from arena.teams import views

urlpatterns = [
    path("c/<slug:slug>/team/", views.team_page, name="team-page"),
    path("c/<slug:slug>/team/leave/", views.team_leave, name="team-leave"),
    path("c/<slug:slug>/team/invite/", views.team_rotate_invite, name="team-rotate-invite"),
    path("c/<slug:slug>/team/announcements/", views.team_announcement_emails, name="team-announcement-emails"),
]
