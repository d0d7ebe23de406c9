from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from arena.challenges.selectors import candidate_lists_visible_to, challenges_visible_to
from arena.core.errors import DomainError
from arena.datasets.models import DownloadChannel
from arena.datasets.selectors import datasets_for
from arena.datasets.services import dataset_file_download_link
from arena.participation.selectors import data_access, datasets_with_licence_standing


def _list(request, challenge, *, error: DomainError | None = None, status: int = 200):
    access = data_access(request.user, challenge)
    return render(request, "datasets/list.html", {
        "challenge": challenge,
        "datasets": datasets_with_licence_standing(access, datasets_for(challenge, request.user)),
        "access": access,
        "error": error,
        "now": timezone.now(),
        "candidate_lists": candidate_lists_visible_to(request.user, challenge),
    }, status=status)


@require_GET
def dataset_list(request, slug: str):
    """The challenge's data: files with sizes and checksums, and download buttons for those allowed."""
    return _list(request, get_object_or_404(challenges_visible_to(request.user), slug=slug))


@login_required
@require_POST
def dataset_file_download(request, slug: str, file_id: int):
    """Issue a signed, short-lived link to one file and send the browser to it."""
    challenge = get_object_or_404(challenges_visible_to(request.user), slug=slug)
    try:
        link = dataset_file_download_link(
            user=request.user, dataset_file_id=file_id, challenge=challenge,
            ip_address=request.META.get("REMOTE_ADDR"), user_agent=request.headers.get("User-Agent", ""),
            channel=DownloadChannel.WEB,
        )
    except DomainError as exc:
        return _list(request, challenge, error=exc, status=exc.status)
    response = HttpResponseRedirect(link.url)
    response.status_code = 303  # See Other: the browser fetches the link with GET
    return response
