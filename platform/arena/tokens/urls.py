from django.urls import path

from arena.tokens import views

urlpatterns = [
    path("", views.tokens_page, name="api-tokens"),
    path("<int:token_id>/revoke/", views.token_revoke, name="api-token-revoke"),
]
