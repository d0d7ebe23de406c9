from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from arena.challenges.selectors import challenges_visible_to
from arena.core.errors import DomainError
from arena.participation.selectors import challenge_bar_of
from arena.teams import services
from arena.teams.forms import TeamCreateForm, TeamJoinForm
from arena.teams.selectors import team_of


@login_required
@require_http_methods(["GET", "POST"])
def team_page(request, slug: str):
    challenge = get_object_or_404(challenges_visible_to(request.user), slug=slug)
    team = team_of(request.user, challenge)
    create_form = TeamCreateForm(request.POST if request.POST.get("action") == "create" else None)
    join_form = TeamJoinForm(request.POST if request.POST.get("action") == "join" else None)
    status = 200
    if request.method == "POST" and team is None:
        form = create_form if request.POST.get("action") == "create" else join_form
        status = 400
        if form.is_valid():
            try:
                if form is create_form:
                    team = services.team_create(user=request.user, challenge=challenge, name=form.cleaned_data["name"])
                    messages.success(request, f"Team '{team.name}' created. Share the invite code with your team.")
                else:
                    team = services.team_join(user=request.user, challenge=challenge,
                                              invite_code=form.cleaned_data["invite_code"])
                    messages.success(request, f"You joined team '{team.name}'.")
                return redirect("team-page", slug=challenge.slug)
            except DomainError as exc:
                form.add_error(exc.details.get("field"), exc.message)
                if exc.status == 403:  # not allowed at all (entry closed, barred), as opposed to a wrong entry
                    status = 403
    elif request.method == "POST":
        messages.error(request, f"You are already in team '{team.name}'; leave it first.")
        status = 409
    context = {"challenge": challenge, "team": team, "create_form": create_form, "join_form": join_form,
               "bar": challenge_bar_of(request.user, challenge) if team is None else None,
               "entry_closed": challenge.entry_deadline is not None and timezone.now() >= challenge.entry_deadline}
    if team is not None:
        context["memberships"] = team.memberships.select_related("user").order_by("joined_at")
        context["participation"] = getattr(team, "participation", None)
        context["is_owner"] = any(m.user_id == request.user.pk and m.role == "owner" for m in context["memberships"])
        context["own_membership"] = next(m for m in context["memberships"] if m.user_id == request.user.pk)
    return render(request, "teams/team.html", context, status=status)


@login_required
@require_POST
def team_leave(request, slug: str):
    challenge = get_object_or_404(challenges_visible_to(request.user), slug=slug)
    team = team_of(request.user, challenge)
    if team is None:
        messages.error(request, "You are not in a team for this challenge.")
        return redirect("team-page", slug=slug)
    try:
        services.team_leave(user=request.user, team=team)
        messages.success(request, f"You left team '{team.name}'.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("team-page", slug=slug)


@login_required
@require_POST
def team_rotate_invite(request, slug: str):
    challenge = get_object_or_404(challenges_visible_to(request.user), slug=slug)
    team = team_of(request.user, challenge)
    if team is None:
        return redirect("team-page", slug=slug)
    try:
        services.team_rotate_invite_code(user=request.user, team=team)
        messages.success(request, "A new invite code was made; the old one no longer works.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("team-page", slug=slug)


@login_required
@require_POST
def team_announcement_emails(request, slug: str):
    """Turn the organisers' announcement e-mails on or off for the signed-in member."""
    challenge = get_object_or_404(challenges_visible_to(request.user), slug=slug)
    team = team_of(request.user, challenge)
    if team is None:
        messages.error(request, "You are not in a team for this challenge.")
        return redirect("team-page", slug=slug)
    enabled = request.POST.get("announcement_emails") == "on"
    try:
        services.team_membership_set_announcement_emails(user=request.user, team=team, enabled=enabled)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("team-page", slug=slug)
    messages.success(request, "The organisers' announcements will be e-mailed to you." if enabled
                     else "You will no longer get the organisers' announcements by e-mail; they stay on the "
                     "challenge page.")
    return redirect("team-page", slug=slug)
