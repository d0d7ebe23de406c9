from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "AffectArena organiser admin"
admin.site.site_title = "AffectArena admin"
admin.site.index_title = "Your challenges"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("arena.api.urls")),
    path("accounts/tokens/", include("arena.tokens.urls")),
    path("accounts/", include("arena.accounts.urls")),
    path("", include("arena.core.urls")),
    path("", include("arena.challenges.urls")),
    path("", include("arena.teams.urls")),
    path("", include("arena.participation.urls")),
    path("", include("arena.datasets.urls")),
    path("", include("arena.submissions.urls")),
    path("", include("arena.leaderboards.urls")),
]

# Under /api/ these answer in the API's JSON error shape; elsewhere they are Django's pages.
handler400 = "arena.api.handlers.bad_request"
handler404 = "arena.api.handlers.page_not_found"
handler500 = "arena.api.handlers.server_error"
