from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from arena.challenges.selectors import challenge_current_licence, challenges_visible_to, dataset_current_licence
from arena.core.errors import DomainError
from arena.datasets.models import Dataset
from arena.participation import services
from arena.participation.forms import AgreementUploadForm, LicenceAcceptForm
from arena.participation.selectors import data_access
from arena.participation.standing import participant_dashboard
from arena.teams.selectors import team_of


def _page(request, challenge, *, dataset=None, accept_form=None, agreement_form=None, status=200):
    return render(request, "participation/licence.html", {
        "challenge": challenge,
        "dataset": dataset,
        "access": data_access(request.user, challenge, dataset=dataset),
        "accept_form": accept_form or LicenceAcceptForm(user=request.user),
        "agreement_form": agreement_form or AgreementUploadForm(),
        "agreement_max_bytes": services.agreement_max_bytes(),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def _challenge_and_dataset(request, slug: str, dataset_slug: str | None):
    challenge = get_object_or_404(challenges_visible_to(request.user), slug=slug)
    with_licence = Dataset.objects.filter(challenge=challenge, licences__isnull=False).distinct()
    dataset = get_object_or_404(with_licence, slug=dataset_slug) if dataset_slug else None
    return challenge, dataset


def _back(challenge, dataset):
    if dataset is None:
        return redirect("licence-page", slug=challenge.slug)
    return redirect("dataset-licence-page", slug=challenge.slug, dataset_slug=dataset.slug)


@login_required
@require_http_methods(["GET", "POST"])
def licence_page(request, slug: str, dataset_slug: str | None = None):
    """The licence (the challenge's, or one dataset's own), the team's standing, and the form to
    accept the current version."""
    challenge, dataset = _challenge_and_dataset(request, slug, dataset_slug)
    if request.method == "GET":
        return _page(request, challenge, dataset=dataset)
    form = LicenceAcceptForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, challenge, dataset=dataset, accept_form=form, status=400)
    try:
        acceptance = services.licence_accept(
            user=request.user, challenge=challenge, full_name=form.cleaned_data["full_name"],
            affiliation=form.cleaned_data["affiliation"], accepted_on=form.cleaned_data["accepted_on"],
            dataset=dataset,
        )
    except DomainError as exc:
        form.add_error(exc.details.get("field"), exc.message)
        return _page(request, challenge, dataset=dataset, accept_form=form, status=exc.status)
    what = f"the licence of {dataset.title}" if dataset else "the licence"
    messages.success(request, f"Your team accepted version {acceptance.licence.version} of {what}.")
    return _back(challenge, dataset)


@login_required
@require_POST
def licence_agreement(request, slug: str, dataset_slug: str | None = None):
    """Upload the signed agreement (PDF) for the team's acceptance of the current licence."""
    challenge, dataset = _challenge_and_dataset(request, slug, dataset_slug)
    form = AgreementUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, challenge, dataset=dataset, agreement_form=form, status=400)
    try:
        services.licence_agreement_upload(user=request.user, challenge=challenge,
                                          upload=form.cleaned_data["file"], dataset=dataset)
    except DomainError as exc:
        form.add_error("file" if exc.details.get("field") == "file" else None, exc.message)
        return _page(request, challenge, dataset=dataset, agreement_form=form, status=exc.status)
    messages.success(request, "Signed agreement uploaded; the organisers will review it.")
    return _back(challenge, dataset)


def licence_print(request, slug: str, dataset_slug: str | None = None):
    """The current licence (the challenge's, or one dataset's own) as a page to print, sign and scan.
    Open to anyone who can see the challenge."""
    challenge = get_object_or_404(challenges_visible_to(request.user), slug=slug)
    if dataset_slug is None:
        dataset, licence = None, challenge_current_licence(challenge)
    else:
        dataset = get_object_or_404(Dataset.objects.filter(challenge=challenge), slug=dataset_slug)
        licence = dataset_current_licence(dataset)
    if licence is None:
        raise Http404("This licence has not been published.")
    return render(request, "participation/licence_print.html", {
        "challenge": challenge, "dataset": dataset, "licence": licence,
        "team": team_of(request.user, challenge),
    })


@login_required
def dashboard_page(request):
    """``/me/``: the person's teams with their next step and limits, and their newest submissions."""
    return render(request, "participation/dashboard.html",
                  {"dashboard": participant_dashboard(user=request.user)})
