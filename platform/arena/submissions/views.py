from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

import scorers
from arena.challenges.models import Phase
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import phase_visible_by_slugs
from arena.core.errors import DomainError
from arena.submissions.forms import ContainerSubmissionForm, SubmissionForm
from arena.submissions.selectors import (
    submission_visible_logs,
    submission_visible_scores,
    submissions_of_user,
)
from arena.submissions.services.actions import submission_cancel_own, submission_select
from arena.submissions.services.containers import submission_create_container
from arena.submissions.services.create import MethodInfo, submission_create, submission_for_member
from arena.teams.selectors import team_of


def _phase(request, slug: str, track_slug: str, phase_slug: str) -> Phase:
    phase = phase_visible_by_slugs(user=request.user, slug=slug, track_slug=track_slug, phase_slug=phase_slug)
    if phase is None:
        raise Http404("No such phase.")
    return phase


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
def phase_page(request, slug: str, track_slug: str, phase_slug: str):
    phase = _phase(request, slug, track_slug, phase_slug)
    track, challenge = phase.track, phase.track.challenge
    is_model = request.POST.get("kind") == "container"
    form = SubmissionForm(request.POST if not is_model else None, request.FILES if not is_model else None)
    model_form = ContainerSubmissionForm(request.POST if is_model else None, request.FILES if is_model else None,
                                         prefix="model")
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        posted = model_form if is_model else form
        if posted.is_valid():
            data = posted.cleaned_data
            method = MethodInfo(data["method_name"], data["method_description"], data["paper_url"], data["code_url"])
            try:
                if is_model:
                    archive = data.get("image_archive")
                    submission, _ = submission_create_container(
                        user=request.user, phase=phase, method=method, archive=archive,
                        archive_name=archive.name if archive else "", archive_size=archive.size if archive else None,
                        image_reference=data.get("image_reference", ""),
                    )
                else:
                    upload = data["file"]
                    submission, _ = submission_create(
                        user=request.user, phase=phase, file_name=upload.name, stream=upload, method=method)
            except DomainError as exc:
                field = exc.details.get("field")
                posted.add_error(field if field in posted.fields else None, exc.message)
                status = exc.status
            else:
                url = reverse("submission-page", args=[submission.pk])
                if _wants_json(request):
                    return JsonResponse({"id": submission.pk, "redirect": url}, status=201)
                messages.success(request, f"Submission #{submission.pk} received; it is being scored.")
                return redirect(url)
        else:
            status = 400
        if _wants_json(request):
            errors = {f: [str(e) for e in errs] for f, errs in posted.errors.items()}
            first = next(iter(errors.values()), ["Invalid submission."])[0]
            return JsonResponse({"message": first, "errors": errors}, status=status)
    team = team_of(request.user, challenge)
    now = timezone.now()
    return render(request, "submissions/phase.html", {
        "challenge": challenge, "track": track, "phase": phase, "team": team, "form": form,
        "model_form": model_form,
        "is_open": phase.opens_at <= now < phase.closes_at,
        "scorer": scorers.get_scorer(track.scorer_key),
        "submissions": submissions_of_user(user=request.user, phase=phase)[:100] if team else [],
        "is_organiser": is_organiser(request.user, challenge),
    }, status=status)


@login_required
def submission_page(request, submission_id: int):
    try:
        submission = submission_for_member(user=request.user, submission_id=submission_id)
    except DomainError as exc:
        return render(request, "accounts/message.html", {"title": "Not found", "text": exc.message}, status=404)
    return render(request, "submissions/detail.html", {
        "submission": submission, "phase": submission.phase, "track": submission.phase.track,
        "challenge": submission.phase.track.challenge,
        "scores": submission_visible_scores(submission, request.user),
        "logs": submission_visible_logs(submission, request.user),
    })


@login_required
@require_POST
def submission_cancel_page(request, submission_id: int):
    try:
        submission = submission_for_member(user=request.user, submission_id=submission_id)
        submission_cancel_own(user=request.user, submission=submission)
        messages.success(request, f"Submission #{submission_id} was cancelled.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("submission-page", submission_id=submission_id)


@login_required
@require_POST
def submission_select_page(request, submission_id: int):
    try:
        submission = submission_for_member(user=request.user, submission_id=submission_id)
        submission_select(user=request.user, submission=submission, selected=request.POST.get("selected") == "1")
        messages.success(request, "Your final entries were updated.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("submission-page", submission_id=submission_id)
