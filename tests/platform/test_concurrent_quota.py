"""N parallel uploads at the limit admit exactly the limit (PostgreSQL, concurrent HTTP clients)."""

import threading

import pytest
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from arena.submissions.models import Submission
from tests.platform.factories import PhaseFactory, UserFactory, ready_team

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"


def _session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


@pytest.mark.parametrize("on", ["track", "phase"])
@pytest.mark.parametrize("limit_field", ["max_per_day", "max_total", "max_in_flight"])
def test_parallel_uploads_at_the_limit_admit_exactly_the_limit(live_server, limit_field, on):
    limits = {"max_per_day": None, "max_total": None, "max_in_flight": None, limit_field: 3}
    if on == "track":
        phase = PhaseFactory(**{f"track__{k}": v for k, v in limits.items()})
    else:  # the phase's own limit, under a more generous track
        phase = PhaseFactory(**{f"track__{k}": (None if v is None else 50) for k, v in limits.items()},
                             **{limit_field: 3})
    members = [UserFactory() for _ in range(4)]
    ready_team(challenge=phase.track.challenge, members=members)
    cookies = [_session_cookie(u) for u in members]
    url = f"{live_server.url}/api/v1/phases/{phase.pk}/submissions"
    clients = 10
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()

    def upload(index: int) -> None:
        http = requests.Session()
        http.cookies.set(settings.SESSION_COOKIE_NAME, cookies[index % len(cookies)])
        http.get(f"{live_server.url}/accounts/login/")  # obtain a CSRF cookie
        token = http.cookies.get(settings.CSRF_COOKIE_NAME)
        barrier.wait(timeout=30)
        response = http.post(url, files={"file": ("p.csv", GOOD)}, data={"method_name": f"run {index}"},
                             headers={"X-CSRFToken": token, "Referer": live_server.url}, timeout=60)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [201] * 3 + [429] * (clients - 3)
    assert Submission.objects.filter(phase=phase).count() == 3
