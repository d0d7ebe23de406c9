from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from arena.core import views


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links: send them to the static file."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("arena/favicon.ico")


urlpatterns = [
    path("files/<str:token>/", views.signed_file, name="signed-file"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
]
