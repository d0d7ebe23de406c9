from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from arena.accounts.forms import HostingRequestForm, SignUpForm
from arena.accounts.permissions import can_host_challenges
from arena.accounts.services import hosting_request_create, user_sign_up
from arena.core.errors import DomainError

HOSTING_REQUEST_SENT = ("Your request to host challenges was sent. A site admin will decide it; "
                        "you will get an e-mail.")


@require_http_methods(["GET", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("challenge-list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_sign_up(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            affiliation=form.cleaned_data.get("affiliation", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        next_url = request.GET.get("next", "")
        if next_url.startswith("/") and not next_url.startswith("//"):
            return redirect(next_url)
        return redirect("challenge-list")
    return render(request, "accounts/sign_up.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def hosting_request(request):
    """Ask for the right to host challenges, or see where one's request stands."""
    form = HostingRequestForm(request.POST or None, initial={"affiliation": request.user.affiliation})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                hosting_request_create(user=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, HOSTING_REQUEST_SENT)
                return redirect("hosting-request")
    requests = request.user.hosting_requests.select_related("decided_by")
    return render(request, "accounts/hosting.html", {
        "form": form, "is_host": can_host_challenges(request.user),
        "open_request": requests.filter(decided_at__isnull=True).first(),
        "decided": requests.filter(decided_at__isnull=False)[:5],
    }, status=status)
