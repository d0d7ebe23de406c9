"""Creating submissions: who may, what is checked at upload, and the limits."""

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arena.core.errors import DomainError, PermissionDenied, QuotaExceeded
from arena.participation.models import ParticipationStatus
from arena.participation.selectors import data_access, data_access_once
from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.create import MethodInfo, submission_create
from arena.tokens.services import api_token_create
from tests.platform.factories import LicenceFactory, PhaseFactory, TeamFactory, UserFactory, ready_team

pytestmark = pytest.mark.django_db

GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"


@pytest.fixture
def world():
    user = UserFactory()
    phase = PhaseFactory(track__max_per_day=3, track__max_total=4, track__max_in_flight=2)
    team = ready_team(challenge=phase.track.challenge, members=[user])
    return user, phase, team


def _submit(user, phase, data=GOOD, *, key="", name="p.csv"):
    return submission_create(user=user, phase=phase, file_name=name, stream=io.BytesIO(data),
                             method=MethodInfo("M"), idempotency_key=key)


def test_valid_upload_is_stored_and_queued(world, django_capture_on_commit_callbacks):
    user, phase, team = world
    with django_capture_on_commit_callbacks() as callbacks:
        submission, created = _submit(user, phase, name="../../my preds.csv")
    assert created and submission.status == SubmissionStatus.QUEUED
    assert submission.team == team and submission.file_name == "../../my preds.csv"
    assert submission.file.name.startswith("submissions/") and submission.file.name.endswith("/predictions.csv")
    assert submission.file.read() == GOOD
    assert len(callbacks) == 1


def test_malformed_file_is_refused_with_its_line_and_uses_no_quota(world):
    user, phase, _ = world
    with pytest.raises(DomainError) as err:
        _submit(user, phase, b"name,discrete\ns1,happy\ns2,elated\n")
    assert err.value.status == 422 and err.value.code == "invalid_submission_file"
    assert err.value.details["line"] == 3 and "elated" in err.value.message
    assert not Submission.objects.exists()


def test_missing_phase_keys_are_refused(world):
    user, phase, _ = world
    with pytest.raises(DomainError) as err:
        _submit(user, phase, b"name,discrete\ns1,happy\n")
    assert err.value.code == "invalid_submission_file"
    assert not Submission.objects.exists()


def test_limits_total_in_flight_and_per_day(world):
    user, phase, _ = world
    first, _ = _submit(user, phase)
    second, _ = _submit(user, phase)
    with pytest.raises(QuotaExceeded) as err:
        _submit(user, phase)
    assert err.value.details["limit"] == "in_flight" and err.value.status == 429
    # Finishing one frees an in-flight slot; the day's count still includes it.
    token = Submission.objects.get(pk=first.pk).claim_token
    lifecycle.submission_claim(submission_id=first.pk, token=token, to=SubmissionStatus.SCORING)
    lifecycle.submission_mark_scored(submission_id=first.pk, token=token)
    _submit(user, phase)
    lifecycle.submission_mark_cancelled(submission_id=second.pk, message="x")  # does not count any more
    Submission.objects.filter(status=SubmissionStatus.QUEUED).update(status=SubmissionStatus.SCORED)
    _submit(user, phase)
    with pytest.raises(QuotaExceeded) as err:
        _submit(user, phase)
    assert err.value.details["limit"] == "per_day" and "resets at" in err.value.message
    # Yesterday's submissions leave today's count free but still count towards the total.
    Submission.objects.update(created_at=timezone.now() - timedelta(days=1))
    Submission.objects.filter(status=SubmissionStatus.QUEUED).update(status=SubmissionStatus.SCORED)
    _submit(user, phase)  # 3 counted so far (the cancelled one does not count): a 4th fits
    with pytest.raises(QuotaExceeded) as err:
        _submit(user, phase)
    assert err.value.details == {"limit": "total", "allowed": 4, "used": 4}


def test_failed_and_cancelled_do_not_count(world):
    user, phase, _ = world
    phase.track.max_total = 1
    phase.track.save()
    first, _ = _submit(user, phase)
    lifecycle.submission_mark_failed(submission_id=first.pk, message="boom")
    second, _ = _submit(user, phase)
    lifecycle.submission_mark_cancelled(submission_id=second.pk, message="stop")
    _submit(user, phase)
    with pytest.raises(QuotaExceeded):
        _submit(user, phase)
    assert Submission.objects.count() == 3


def test_idempotency_key_returns_the_same_submission(world):
    user, phase, _ = world
    first, created = _submit(user, phase, key="retry-1")
    again, created_again = _submit(user, phase, key="retry-1")
    assert created and not created_again and again.pk == first.pk
    assert Submission.objects.count() == 1
    other = PhaseFactory(track=phase.track, slug="other")
    with pytest.raises(DomainError) as err:
        _submit(user, other, key="retry-1")
    assert err.value.code == "idempotency_key_reused"


@pytest.mark.parametrize("case,code", [
    ("no team", "not_in_team"), ("pending", "approval_pending"), ("denied", "participation_denied"),
    ("no licence", "licence_not_accepted"), ("closed", "phase_closed"), ("not yet open", "phase_not_open"),
])
def test_who_may_submit(case, code):
    user = UserFactory()
    phase = PhaseFactory()
    challenge = phase.track.challenge
    LicenceFactory(challenge=challenge)
    if case in ("pending", "denied"):
        team = ready_team(challenge=challenge, members=[user])
        team.participation.status = ParticipationStatus.PENDING if case == "pending" else ParticipationStatus.DENIED
        team.participation.save()
    elif case == "no licence":
        TeamFactory(challenge=challenge, members=[user])
    elif case in ("closed", "not yet open"):
        ready_team(challenge=challenge, members=[user])
        now = timezone.now()
        window = (now - timedelta(days=3), now - timedelta(days=1)) if case == "closed" else \
            (now + timedelta(days=1), now + timedelta(days=3))
        phase.opens_at, phase.closes_at = window
        phase.save()
    with pytest.raises(DomainError) as err:
        _submit(user, phase)
    assert err.value.code == code
    assert not Submission.objects.exists()


def test_track_that_takes_only_containers_refuses_files(world):
    user, phase, _ = world
    phase.track.accepts_files, phase.track.accepts_containers = False, True
    phase.track.save()
    with pytest.raises(DomainError, match="containerised models"):
        _submit(user, phase)


def test_permission_errors_are_403(world):
    with pytest.raises(PermissionDenied) as err:
        _submit(UserFactory(), world[1])
    assert err.value.status == 403


@pytest.mark.parametrize(("field", "setting", "value", "what"), [
    ("max_upload_mb", "ARENA_MAX_UPLOAD_MB", 1024, "The upload limit in MB"),
    ("container_wall_seconds", "ARENA_MAX_CONTAINER_WALL_SECONDS", 21600, "A model's wall-clock limit in seconds"),
    ("max_image_mb", "ARENA_MAX_IMAGE_MB", 16384, "The model archive limit in MB"),
])
def test_track_limits_have_site_wide_upper_bounds(settings, field, setting, value, what):
    from django.core.exceptions import ValidationError

    from tests.platform.factories import TrackFactory

    assert getattr(settings, setting) == value
    track = TrackFactory.build(**{field: value})
    track.full_clean(exclude=["challenge"])
    setattr(track, field, value + 1)
    with pytest.raises(ValidationError) as refused:
        track.full_clean(exclude=["challenge"])
    assert refused.value.message_dict[field] == [
        f"{what} can be at most {value} on this site ({setting}); choose a smaller value."]


def test_a_phase_limit_overrides_the_tracks_and_an_empty_one_falls_back(world):
    user, phase, _ = world
    phase.track.max_in_flight = None
    phase.track.max_total = 10
    phase.track.save()
    phase.max_total = 1
    phase.save()
    _submit(user, phase)
    with pytest.raises(QuotaExceeded) as refused:
        _submit(user, phase)
    assert (refused.value.details, refused.value.message) == (
        {"limit": "total", "allowed": 1, "used": 1}, "Your team has used all 1 submissions of this phase.")
    assert Submission.objects.filter(phase=phase).count() == 1
    phase.max_total = None  # back to the track's 10
    phase.save()
    _submit(user, phase)
    assert Submission.objects.filter(phase=phase).count() == 2


def test_the_phase_page_and_api_say_what_the_team_has_left(client, world):
    user, phase, _ = world  # 3 per day, 4 in total, 2 in flight
    _submit(user, phase)
    client.force_login(user)
    page = client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/").text
    assert ("Your team: 3 of 4 left in total; 2 of 3 left today (resets 00:00 UTC); 1 of at most 2 being scored."
            in " ".join(page.split()))
    limits = client.get(f"/api/v1/phases/{phase.pk}").json()["my_limits"]
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert [(u["limit"], u["allowed"], u["used"], u["left"], u["text"]) for u in limits] == [
        ("total", 4, 1, 3, "3 of 4 left in total"), ("per_day", 3, 1, 2, "2 of 3 left today (resets 00:00 UTC)"),
        ("in_flight", 2, 1, 1, "1 of at most 2 being scored")]
    assert limits[1]["resets_at"] == midnight.isoformat().replace("+00:00", "Z")
    client.logout()
    assert client.get(f"/api/v1/phases/{phase.pk}").json()["my_limits"] is None


def test_an_upload_reads_the_teams_standing_once(client, world):
    # The view refuses before reading the body and the service checks again: one read of the standing serves both.
    user, phase, team = world
    token = api_token_create(user=user, name="script").raw
    upload = io.BytesIO(GOOD)
    upload.name = "p.csv"
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(f"/api/v1/phases/{phase.pk}/submissions", {"file": upload, "method_name": "M"},
                             HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code == 201, answer.content
    assert Submission.objects.get().team == team
    standing = [q["sql"] for q in queries if '"participation_challengebar"' in q["sql"]]
    assert len(standing) == 1


def test_the_standing_is_read_once_only_within_a_request(world):
    user, phase, team = world
    challenge = phase.track.challenge
    with data_access_once():
        first = data_access(user, challenge, action="submit")
        with CaptureQueriesContext(connection) as queries:
            assert data_access(user, challenge, action="submit") is first
        assert len(queries) == 0
        assert data_access(user, challenge, action="download") is not first  # another question, read
    # Outside such a block every check reads the standing as it is now.
    _submit(user, phase)
    team.participation.status = ParticipationStatus.REVOKED
    team.participation.save()
    with pytest.raises(PermissionDenied):
        _submit(user, phase)
    assert Submission.objects.count() == 1
