import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import scorers
from arena.challenges.models import Phase
from arena.challenges.permissions import is_organiser
from arena.challenges.selectors import candidate_lists_visible_to, phase_visible_by_slugs
from arena.challenges.visibility import PUBLIC, describe_board, describe_entry_rule, visible_score_splits
from arena.core.errors import DomainError
from arena.core.uploads import UploadLimit, limit_uploads
from arena.factsheets.selectors import factsheet_questions
from arena.participation.standing import phase_standing
from arena.submissions.forms import ContainerSubmissionForm, SubmissionForm
from arena.submissions.robustness_chart import SUMMARY_WORDS, robustness_chart
from arena.submissions.selectors import (
    submission_visible_logs,
    submission_visible_scores,
    submissions_of_user,
)
from arena.submissions.services.actions import submission_cancel_own, submission_select
from arena.submissions.services.containers import archive_upload_limit, submission_create_container
from arena.submissions.services.create import MethodInfo, submission_create, submission_for_member
from arena.submissions.services.intake import submission_intake_team
from arena.submissions.services.uploads import prediction_upload_limit
from arena.teams.selectors import team_of


def _phase(request, slug: str, track_slug: str, phase_slug: str) -> Phase:
    phase = phase_visible_by_slugs(user=request.user, slug=slug, track_slug=track_slug, phase_slug=phase_slug)
    if phase is None:
        raise Http404("No such phase.")
    return phase


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


MODEL_PREFIX = "model"


def _upload_limits(track) -> dict[str, UploadLimit]:
    """The file fields of the phase page's forms (one form per kind the track takes) and their limits."""
    limits = {}
    if track.accepts_files:
        limits["file"] = prediction_upload_limit(track)
    if track.accepts_containers:
        limits[f"{MODEL_PREFIX}-image_archive"] = archive_upload_limit(track)
    return limits


@csrf_exempt  # the CSRF token travels in the body: _phase_submit checks it once the body has its limits
@require_http_methods(["GET", "POST"])
def phase_page(request, slug: str, track_slug: str, phase_slug: str):
    phase = _phase(request, slug, track_slug, phase_slug)
    if request.method != "POST":
        return _phase_render(request, phase)
    # Who may submit is known before the body is read: a refusal reads none of it.
    if not request.user.is_authenticated:
        if _wants_json(request):
            return JsonResponse({"message": "Sign in to submit.", "errors": {}}, status=401)
        return redirect(f"{reverse('login')}?next={request.path}")
    try:
        submission_intake_team(user=request.user, phase=phase)
        limit_uploads(request, _upload_limits(phase.track))
        return _phase_submit(request, phase)
    except DomainError as exc:  # refused before the body, or while reading it (over the track's limit)
        return _phase_refused(request, phase, exc)


@csrf_protect
def _phase_submit(request, phase: Phase):
    is_model = request.POST.get("kind") == "container"
    questions = list(factsheet_questions(phase))
    form = SubmissionForm(None if is_model else request.POST, None if is_model else request.FILES,
                          questions=questions)
    model_form = ContainerSubmissionForm(request.POST if is_model else None, request.FILES if is_model else None,
                                         prefix=MODEL_PREFIX, questions=questions)
    posted = model_form if is_model else form
    # Each rendering of the form carries its own key: sending the same form twice (a retry after a
    # lost answer, a double click) returns the first submission instead of using another slot.
    idempotency_key = request.POST.get("idempotency_key", "")[:100]
    status = 400
    if posted.is_valid():
        data = posted.cleaned_data
        method = MethodInfo(data["method_name"], data["method_description"], data["paper_url"], data["code_url"],
                            answers=posted.answers())
        try:
            if is_model:
                archive = data.get("image_archive")
                submission, _ = submission_create_container(
                    user=request.user, phase=phase, method=method, archive=archive,
                    archive_name=archive.name if archive else "", archive_size=archive.size if archive else None,
                    image_reference=data.get("image_reference", ""), idempotency_key=idempotency_key,
                )
            else:
                upload = data["file"]
                submission, _ = submission_create(
                    user=request.user, phase=phase, file_name=upload.name, stream=upload, method=method,
                    idempotency_key=idempotency_key)
        except DomainError as exc:
            field = exc.details.get("field")
            if field == "answers":
                field = f"answer_{exc.details.get('question')}"
            posted.add_error(field if field in posted.fields else None, exc.message)
            status = exc.status
        else:
            url = reverse("submission-page", args=[submission.pk])
            if _wants_json(request):
                return JsonResponse({"id": submission.pk, "redirect": url}, status=201)
            messages.success(request, f"Submission #{submission.pk} received; it is being scored.")
            return redirect(url)
    if _wants_json(request):
        errors = {f: [str(e) for e in errs] for f, errs in posted.errors.items()}
        first = next(iter(errors.values()), ["Invalid submission."])[0]
        return JsonResponse({"message": first, "errors": errors}, status=status)
    return _phase_render(request, phase, form=form, model_form=model_form, status=status,
                         idempotency_key=idempotency_key)


def _phase_refused(request, phase: Phase, exc: DomainError):
    """The page (or JSON) with a refusal that came before the form could be read."""
    if _wants_json(request):
        return JsonResponse({"message": exc.message, "errors": {"__all__": [exc.message]}}, status=exc.status)
    # Which form was sent is in the unread body: the message goes at the top of the page.
    messages.error(request, exc.message)
    return _phase_render(request, phase, status=exc.status)


def _phase_render(request, phase: Phase, *, form=None, model_form=None, status: int = 200,
                  idempotency_key: str = ""):
    track, challenge = phase.track, phase.track.challenge
    team = team_of(request.user, challenge)
    now = timezone.now()
    organiser = is_organiser(request.user, challenge)
    # Who may submit here now, and if not what to do: the form is shown only to a team that can use it.
    standing = phase_standing(user=request.user, phase=phase, now=now)
    return render(request, "submissions/phase.html", {
        "challenge": challenge, "track": track, "phase": phase, "team": team,
        "form": form or SubmissionForm(questions=factsheet_questions(phase)),
        "model_form": model_form or ContainerSubmissionForm(prefix=MODEL_PREFIX, questions=factsheet_questions(phase)),
        "is_open": phase.opens_at <= now < phase.closes_at,
        "scorer": scorers.get_scorer(track.scorer_key),
        "submissions": submissions_of_user(user=request.user, phase=phase)[:100] if team else [],
        "is_organiser": organiser,
        "shows_public_scores": PUBLIC in visible_score_splits(phase, organiser=organiser, now=now),
        "board_rule": describe_board(phase, now), "entry_rule": describe_entry_rule(phase),
        "candidates_published": bool(phase.candidates) and candidate_lists_visible_to(
            request.user, challenge).filter(pk=phase.pk).exists(),
        "idempotency_key": idempotency_key or uuid.uuid4().hex,
        "limits": standing.limits,
        "step": standing.step,
    }, status=status)


@login_required
def submission_page(request, submission_id: int):
    try:
        submission = submission_for_member(user=request.user, submission_id=submission_id)
    except DomainError as exc:
        return render(request, "accounts/message.html", {"title": "Not found", "text": exc.message}, status=404)
    scores = submission_visible_scores(submission, request.user)
    metric = scorers.get_scorer(submission.phase.track.scorer_key).primary_metric
    robustness = [
        {"split": split, "conditions": score.conditions, "metric": metric,
         "summary": SUMMARY_WORDS.get((score.breakdown.get("robustness") or {}).get("summary"), "summary"),
         "chart": robustness_chart(score.conditions, metric=metric)}
        for split, score in scores.items() if score.conditions
    ]
    return render(request, "submissions/detail.html", {
        "submission": submission, "phase": submission.phase, "track": submission.phase.track,
        "challenge": submission.phase.track.challenge,
        "scores": scores, "robustness": robustness,
        "board_rule": describe_board(submission.phase),
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


@require_GET
def phase_candidates(request, slug: str, track_slug: str, phase_slug: str):
    """The phase's published candidate list: public to everyone who can see the phase, from its opening."""
    phase = _phase(request, slug, track_slug, phase_slug)
    if not candidate_lists_visible_to(request.user, phase.track.challenge).filter(pk=phase.pk).exists():
        raise Http404("This phase publishes no candidate list (yet).")
    return FileResponse(phase.candidates.open("rb"), as_attachment=True, content_type="text/csv",
                        filename=f"{phase.track.slug}-{phase.slug}-candidates.csv")
