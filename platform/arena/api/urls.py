"""The versioned REST API under /api/v1/. Each domain app contributes its own ``api/urls.py``."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from arena.api.handlers import api_not_found

app_name = "api"

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("arena.tokens.api.urls")),
    path("", include("arena.challenges.api.urls")),
    path("", include("arena.datasets.api.urls")),
    path("", include("arena.participation.api.urls")),
]

urlpatterns += [
    path("", include("arena.submissions.api.urls")),
    path("", include("arena.leaderboards.api.urls")),
    path("", include("arena.exports.api.urls")),
    # Last: any other path under /api/v1/ is a JSON 404.
    re_path(r"^.*$", api_not_found, name="not-found"),
]
