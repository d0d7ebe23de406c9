"""An organiser's whole journey from scratch, in a real browser (Playwright driving Debian's Chromium).

A host signs in to the organiser admin, creates a challenge with its licence, adds an open-vocabulary
track scored by ``mer.ov-wheel`` (switching the scorer brings its options, the wheel level is set) and
a phase with both references, sees the readiness check name the missing emotion-wheel files, uploads
them as track assets, sees the check turn ready, publishes without any override, posts a baseline and
finds it on the public leaderboard, marked and unranked, with the score the scorer itself gives. The
pages are served by the live test server and the baseline is scored by a real Celery worker.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

import scorers
from arena.accounts.permissions import host_challenges_permission
from arena.audit.models import AuditEntry
from arena.challenges.models import Challenge, Phase, Track
from arena.submissions.models import Submission, SubmissionStatus
from tests.browser.test_participant_journey import browser_page  # noqa: F401 (the fixture)
from tests.platform.factories import UserFactory
from tests.platform.worker import broker_for_tests, celery_worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WHEELS = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"
WHEEL_FILES = ["format.csv", "synonym.csv", *(f"wheel{n}.csv" for n in range(1, 6))]
# Every reference scores 1 against itself on the demo wheels (each reaches all five wheels).
PUBLIC = ("name,openset\ns1,\"['happy', 'sad']\"\ns2,\"['angry']\"\ns3,\"['worried']\"\n"
          "s4,\"['joyful', 'afraid']\"\n")
PRIVATE = "name,openset\ns5,\"['joyful', 'afraid']\"\ns6,\"['furious']\"\ns7,\"['nervous', 'sad']\"\n"
BASELINE = ("name,openset\ns1,\"['happy']\"\ns2,\"['angry', 'sad']\"\ns3,\"['nervous']\"\ns4,\"['happy']\"\n"
            "s5,\"['happy']\"\ns6,angry\ns7,\"['worried']\"\n")
PASSWORD = "pw-for-tests-123"  # UserFactory's


def _date_time(page, field: str, moment) -> None:
    """Fill the admin's split date and time inputs of ``field`` (times are UTC)."""
    page.fill(f"#id_{field}_0", f"{moment:%Y-%m-%d}")
    page.fill(f"#id_{field}_1", f"{moment:%H:%M:%S}")


def _save_and_continue(page) -> None:
    with page.expect_navigation():
        page.click("input[name=_continue]")


def _errors(page) -> str:
    found = page.locator(".errornote, .errorlist")
    return " | ".join(found.all_inner_texts())


def test_host_creates_configures_publishes_and_posts_a_baseline(live_server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    host = UserFactory(username="host", is_staff=True)
    host.user_permissions.add(host_challenges_permission())
    base = live_server.url
    now = timezone.now().replace(microsecond=0)
    files = {}
    for name, text in (("public.csv", PUBLIC), ("private.csv", PRIVATE), ("baseline.csv", BASELINE)):
        files[name] = tmp_path / name
        files[name].write_text(text)
    expected = scorers.get_scorer("mer.ov-wheel").score_splits(
        golds={"public": files["public.csv"], "private": files["private.csv"]}, pred=files["baseline.csv"],
        options={"level": "level2"}, assets=WHEELS)
    log = tmp_path / "worker.log"

    with celery_worker(broker_for_tests(), log_path=log):
        # Sign in through the admin's own login page.
        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", "host")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("input[type=submit]")
        assert page.url == f"{base}/admin/", _errors(page)

        # The challenge, then its licence through the inline.
        page.goto(f"{base}/admin/challenges/challenge/add/")
        page.fill("#id_title", "Open Vocabulary 2031")
        page.press("#id_title", "Tab")
        assert page.input_value("#id_slug") == "open-vocabulary-2031"  # prepopulated from the title
        page.fill("#id_slug", "ov-2031")
        page.fill("#id_summary", "Describe each clip with free emotion words.")
        _date_time(page, "starts_at", now - timedelta(days=1))
        _date_time(page, "ends_at", now + timedelta(days=30))
        assert page.input_value("#id_slug") == "ov-2031"
        # A host who organises nothing yet gets no licence inline on the add page (the inlines follow
        # "organises some challenge"), so the licence is added on the change page the save leads to.
        _save_and_continue(page)
        assert "/change/" in page.url, _errors(page)
        challenge = Challenge.objects.get(slug="ov-2031")
        assert list(challenge.organisers.all()) == [host] and not challenge.is_published
        readiness = page.inner_text(".field-readiness")
        assert "The challenge has no licence" in readiness and "The challenge has no track." in readiness
        page.click("#licences-group .add-row a")
        page.fill("#id_licences-0-version", "1")
        page.fill("#id_licences-0-title", "OV 2031 EULA")
        page.fill("#id_licences-0-text", "Research use only.")
        _save_and_continue(page)
        assert not _errors(page), _errors(page)
        assert challenge.licences.get().title == "OV 2031 EULA"
        readiness = page.inner_text(".field-readiness")
        assert "no licence" not in readiness and "The challenge has no track." in readiness

        # The track: choosing the scorer brings back its own options, to be checked and saved.
        page.goto(f"{base}/admin/challenges/track/add/")
        page.select_option("#id_challenge", label="Open Vocabulary 2031")
        page.fill("#id_title", "Open vocabulary")
        page.press("#id_title", "Tab")
        page.fill("#id_slug", "ov")
        page.select_option("#id_scorer_key", "mer.ov-wheel")
        # The page still shows the options of the first scorer of the list (abaw.ah), not ov-wheel's.
        assert page.locator("#id_option_level").count() == 0
        _save_and_continue(page)
        assert "The options of mer.ov-wheel are now shown below at their defaults" in _errors(page)
        assert not Track.objects.exists()
        assert page.input_value("#id_option_level") == "level1"
        page.select_option("#id_option_level", "level2")
        page.check("input[name=tie_break_metrics][value=recall]")
        _save_and_continue(page)
        assert "/change/" in page.url, _errors(page)
        track = Track.objects.get(challenge=challenge, slug="ov")
        assert (track.scorer_key, track.scorer_options, track.tie_break_metrics) == (
            "mer.ov-wheel", {"level": "level2"}, ["recall"])

        # The phase with its references; the wheel files are not uploaded yet.
        page.goto(f"{base}/admin/challenges/phase/add/")
        page.select_option("#id_track", str(track.pk))
        page.fill("#id_title", "Test")
        page.fill("#id_slug", "test")
        page.select_option("#id_kind", "test")
        _date_time(page, "opens_at", now - timedelta(hours=1))
        _date_time(page, "closes_at", now + timedelta(days=20))
        page.set_input_files("#id_reference_public", str(files["public.csv"]))
        page.set_input_files("#id_reference_private", str(files["private.csv"]))
        _save_and_continue(page)
        assert "/change/" in page.url, _errors(page)
        phase = Phase.objects.get(track=track, slug="test")
        assert phase.reference_public and phase.reference_private

        # Red: the readiness page names the missing wheel files, and so does the challenge's panel.
        page.goto(f"{base}/c/ov-2031/readiness/")
        assert page.inner_text("#problems-h") == "1 problem to fix"
        row = page.locator("table tbody tr")
        assert row.locator("th").inner_text() == "Track: Open vocabulary"
        problem = row.locator("td").inner_text()
        assert problem.startswith("The scorer's asset files are missing or invalid: emotion-wheel folder of the "
                                  "track lacks format.csv or format.xlsx; synonym.xlsx or synonym.csv;"), problem
        assert "wheel5.xlsx or wheel5.csv" in problem
        page.goto(f"{base}/admin/challenges/challenge/{challenge.pk}/change/")
        assert "lacks format.csv or format.xlsx" in page.inner_text(".field-readiness")

        # The wheel files, as the track's assets.
        page.goto(f"{base}/admin/challenges/track/{track.pk}/change/")
        for row_number, name in enumerate(WHEEL_FILES):
            page.click("#assets-group .add-row a")
            page.fill(f"#id_assets-{row_number}-path", name)
            page.set_input_files(f"#id_assets-{row_number}-file", str(WHEELS / name))
        _save_and_continue(page)
        assert not _errors(page), _errors(page)
        assert sorted(track.assets.values_list("path", flat=True)) == sorted(WHEEL_FILES)

        # Green.
        page.goto(f"{base}/c/ov-2031/readiness/")
        assert "Ready. Nothing to fix." in page.inner_text("body")
        assert page.locator("#problems-h").count() == 0

        # Publish: ready, so no override is needed, and none is recorded.
        page.goto(f"{base}/admin/challenges/challenge/{challenge.pk}/change/")
        assert page.inner_text(".field-readiness .readonly").startswith("Ready: every phase")
        page.check("#id_is_published")
        _save_and_continue(page)
        assert not _errors(page), _errors(page)
        challenge.refresh_from_db()
        assert challenge.is_published
        assert not AuditEntry.objects.filter(action="challenge.publish_not_ready").exists()

        # The baseline, from the phase's page.
        page.goto(f"{base}/admin/challenges/phase/{phase.pk}/change/")
        with page.expect_navigation():
            page.click("text=Add a baseline")
        assert page.url == f"{base}/admin/challenges/phase/{phase.pk}/add-baseline/"
        page.fill("#id_method_name", "Official baseline: keyword lookup")
        page.fill("#id_description", "One emotion word per clip.")
        page.set_input_files("#id_file", str(files["baseline.csv"]))
        with page.expect_navigation():
            page.click("input[type=submit][value='Upload and score']")
        assert page.url == f"{base}/admin/challenges/phase/{phase.pk}/change/", _errors(page)
        assert "is queued for scoring" in page.inner_text(".messagelist")

        baseline = Submission.objects.get(phase=phase)
        assert baseline.is_baseline and baseline.team is None
        wait_for(lambda: Submission.objects.get(pk=baseline.pk).status == SubmissionStatus.SCORED,
                 timeout=45, what="the baseline to be scored", log_path=log)

        # The public board, seen by a visitor who is not signed in.
        visitor = page.context.browser.new_context()
        board = visitor.new_page()
        board.goto(f"{base}/c/ov-2031/t/ov/p/test/leaderboard/")
        rows = board.locator("#leaderboard tbody tr")
        assert rows.count() == 1
        cells = rows.first.locator("td")
        assert rows.first.get_attribute("class") == "baseline"
        assert cells.nth(0).locator(".badge").inner_text() == "baseline"
        assert cells.nth(1).inner_text() == "Organisers"
        assert cells.nth(2).inner_text() == "Official baseline: keyword lookup"
        assert rows.first.locator("td.score").inner_text() == f"{expected['public'].score:.4f}"
        visitor.close()

    scores = {s.split: s.score for s in Submission.objects.get(pk=baseline.pk).scores.all()}
    assert scores == pytest.approx({split: result.score for split, result in expected.items()}, abs=1e-12)
