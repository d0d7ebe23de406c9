"""The profile page where a person creates, lists and revokes personal API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from arena.core.errors import DomainError
from arena.tokens.forms import ApiTokenCreateForm
from arena.tokens.selectors import tokens_of
from arena.tokens.services import api_token_create, api_token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request):
    form = ApiTokenCreateForm(request.POST or None)
    issued = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                issued = api_token_create(user=request.user, name=form.cleaned_data["name"],
                                          expires_at=form.expires_at())
                form, status = ApiTokenCreateForm(), 201
            except DomainError as exc:
                field = exc.details.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
                status = exc.status
    # The new token is rendered in this response only and never stored: reloading the page cannot show it.
    response = render(request, "tokens/tokens.html", {
        "form": form, "issued": issued, "tokens": tokens_of(request.user), "now": timezone.now(),
        "server": request.build_absolute_uri("/").rstrip("/"),
    }, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token = api_token_revoke(actor=request.user, token_id=token_id)
        messages.success(request, f"Token '{token.name}' revoked; scripts using it now get an error.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("api-tokens")
