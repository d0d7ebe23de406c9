import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
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
from arena.core.csv_safety import SafeCsvWriter
from arena.core.errors import DomainError
from arena.core.uploads import UploadLimit, limit_uploads
from arena.factsheets.selectors import factsheet_questions
from arena.participation.selectors import data_access_once
from arena.participation.standing import phase_standing
from arena.submissions.breakdowns import breakdown_view, explanation_rows, interval_view
from arena.submissions.charts import (
    confusion_heatmap,
    density_heatmap,
    per_class_bars,
    robustness_lines,
    team_score_history,
    value_bars,
)
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
        with data_access_once():  # the service checks the team's standing again: read it once
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
    submissions = list(submissions_of_user(user=request.user, phase=phase)[:100]) if team else []
    return render(request, "submissions/phase.html", {
        "challenge": challenge, "track": track, "phase": phase, "team": team,
        "form": form or SubmissionForm(questions=factsheet_questions(phase)),
        "model_form": model_form or ContainerSubmissionForm(prefix=MODEL_PREFIX, questions=factsheet_questions(phase)),
        "is_open": phase.opens_at <= now < phase.closes_at,
        "scorer": scorers.get_scorer(track.scorer_key),
        "submissions": submissions,
        "is_organiser": organiser,
        "shows_public_scores": PUBLIC in visible_score_splits(phase, organiser=organiser, now=now),
        "board_rule": describe_board(phase, now), "entry_rule": describe_entry_rule(phase),
        "candidates_published": bool(phase.candidates) and candidate_lists_visible_to(
            request.user, challenge).filter(pk=phase.pk).exists(),
        "idempotency_key": idempotency_key or uuid.uuid4().hex,
        "limits": standing.limits,
        "step": standing.step,
        # The 100 newest, as in the table: the chart and its table alternative show the same entries.
        "score_history": team_score_history(
            submissions, splits=visible_score_splits(phase, organiser=organiser, now=now),
            metric=scorers.get_scorer(track.scorer_key).primary_metric),
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
         "chart": robustness_chart(score.conditions, metric=metric),
         "line": robustness_lines((score.breakdown.get("robustness") or {}).get("curves") or {},
                                  metric=metric, split=split, order=[c["family"] for c in score.conditions]),
         "line_id": f"chart-{split}-robustness"}
        for split, score in scores.items() if score.conditions
    ]
    return render(request, "submissions/detail.html", {
        "submission": submission, "phase": submission.phase, "track": submission.phase.track,
        "challenge": submission.phase.track.challenge,
        "scores": scores, "robustness": robustness, "breakdowns": _split_breakdowns(submission, scores),
        "score_rows": [(split, score, interval_view(score.breakdown)) for split, score in scores.items()],
        "board_rule": describe_board(submission.phase),
        "logs": submission_visible_logs(submission, request.user),
    })


def _chart(split: str, name: str, spec: dict) -> dict:
    return {"id": f"chart-{split}-{name}", "spec": spec}


def _split_breakdowns(submission, scores: dict) -> list[dict]:
    """Per visible split: its breakdown view (``arena.submissions.breakdowns``) and the specs of its charts."""
    found = []
    for split, score in scores.items():
        view = breakdown_view(score.breakdown, score.metrics)
        if view is None:
            continue
        charts = {}
        family = view["family"]
        classification = view if family == "classification" else view.get("expression")
        if classification:
            charts["confusion"] = _chart(split, "confusion", confusion_heatmap(
                classification, title=f"Confusion matrix, {split} split: reference classes down, predicted across"))
            charts["classes"] = _chart(split, "classes", per_class_bars(
                classification, title=f"Precision, recall and F1 of each class, {split} split"))
        va = view if family == "va" else view.get("va")
        density_charts = []
        if va and va["density"]:
            for dimension in ("valence", "arousal"):
                spec = density_heatmap(va["density"], dimension,
                                       title=f"Predicted against reference {dimension}, {split} split: frames per cell")
                chart = _chart(split, dimension, spec)
                chart["rows"] = list(zip(spec["yLabels"], spec["values"], strict=True))
                density_charts.append((dimension, chart))
        au = view if family == "au" else view.get("au")
        if au:
            charts["units"] = _chart(split, "units", value_bars(
                [u["unit"] for u in au["units"]], [u["f1"] for u in au["units"]], label="F1",
                title=f"F1 of each action unit, {split} split"))
        if family == "ov-wheel":
            charts["wheels"] = _chart(split, "wheels", value_bars(
                [w["wheel"] for w in view["wheels"]], [w["fscore"] for w in view["wheels"]], label="F",
                title=f"F score on each emotion wheel, {split} split"))
        csv_url = (reverse("submission-explanation-csv", args=[submission.pk, split])
                   if family == "ov-wheel" and view["has_samples"] else None)
        found.append({"split": split, "view": view, "classification": classification, "va": va, "au": au,
                      "charts": charts, "density_charts": density_charts, "csv_url": csv_url,
                      "confusion_rows": list(zip(classification["labels"], classification["confusion_matrix"],
                                                 strict=True)) if classification else []})
    return found


@login_required
@require_GET
def submission_explanation_csv(request, submission_id: int, split: str):
    """The per-sample explanation of an open-vocabulary split, where its score is visible to the reader."""
    try:
        submission = submission_for_member(user=request.user, submission_id=submission_id)
    except DomainError as exc:
        raise Http404(exc.message) from None
    score = submission_visible_scores(submission, request.user).get(split)
    if score is None or not score.breakdown.get("samples"):
        raise Http404("This split has no per-sample explanation you can see.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="submission-{submission.pk}-{split}-explanation.csv"'
    writer = SafeCsvWriter(response, lineterminator="\n")
    for row in explanation_rows(score.breakdown):
        writer.writerow(row)
    return response


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
