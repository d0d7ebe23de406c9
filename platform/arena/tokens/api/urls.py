from django.urls import path

from arena.tokens.api import views

urlpatterns = [path("me", views.MeView.as_view(), name="me")]
