"""A participant's whole journey in a real browser (Playwright driving Debian's Chromium).

Sign up, join a team by invite code, accept the licence, upload a prediction file with the
progress bar, watch the status change to scored without reloading, find the entry on the
leaderboard. The page is served by the live test server and scored by a real Celery worker.
"""

from __future__ import annotations

import os
import shutil

import pytest

from arena.submissions.models import Submission, SubmissionStatus
from tests.conftest import require
from tests.platform.factories import LicenceFactory, PhaseFactory, TeamFactory, UserFactory
from tests.platform.worker import broker_for_tests, celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("ARENA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PREDICTION = "name,discrete\ns1,happy\ns2,sad\ns3,happy\ns4,neutral\ns5,worried\n"


@pytest.fixture
def browser_page(tmp_path):
    require(shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM),
            f"needs Chromium at {CHROMIUM} (Debian package chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             chromium_sandbox=False)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(30_000)
        try:
            yield page
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_sign_up_join_accept_submit_and_see_the_leaderboard(live_server, browser_page, tmp_path):
    page = browser_page
    owner = UserFactory(username="team-owner")
    phase = PhaseFactory(track__slug="discrete", track__title="Discrete emotions", slug="validation",
                         title="Validation", track__challenge__slug="mer-demo", track__challenge__title="MER demo")
    challenge = phase.track.challenge
    LicenceFactory(challenge=challenge, title="MER demo EULA")
    team = TeamFactory(challenge=challenge, name="Browser Team", members=[owner])
    prediction = tmp_path / "predictions.csv"
    prediction.write_text(PREDICTION)
    base = live_server.url

    with celery_worker(broker_for_tests(), log_path=tmp_path / "worker.log"):
        page.goto(f"{base}/accounts/signup/")
        page.fill("#id_username", "newcomer")
        page.fill("#id_email", "newcomer@example.org")
        page.fill("#id_affiliation", "Affect Lab")
        page.fill("#id_password1", "a-long-password-42")
        page.fill("#id_password2", "a-long-password-42")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        assert "Signed in as" in page.inner_text("header")

        page.goto(f"{base}/c/mer-demo/team/")
        join = page.locator("form", has=page.locator("input[name=action][value=join]"))
        join.locator("input[name=invite_code]").fill(team.invite_code)
        join.locator("button[type=submit]").click()
        page.wait_for_selector("text=Team Browser Team")

        page.goto(f"{base}/c/mer-demo/licence/")
        page.fill("#id_full_name", "New Comer")
        page.fill("#id_affiliation", "Affect Lab")
        page.check("#id_confirm")
        page.click("form[action$='/licence/'] button[type=submit]")
        page.wait_for_load_state()

        page.goto(f"{base}/c/mer-demo/t/discrete/p/validation/")
        page.set_input_files("#id_file", str(prediction))
        page.fill("#id_method_name", "Browser baseline")
        page.click("#submit-form button[type=submit]")
        page.wait_for_url(f"{base}/submissions/*/")
        # The status changes from queued to scored on the page itself, without a reload by us.
        page.wait_for_selector("[data-status=scored]", timeout=60_000)
        assert "Scored" in page.inner_text("[data-status]")
        public_score = page.inner_text("#scores .score")
        page.screenshot(path=str(tmp_path / "submission.png"), full_page=True)

        page.goto(f"{base}/c/mer-demo/t/discrete/p/validation/leaderboard/")
        row = page.locator("#leaderboard tbody tr").first
        assert row.locator("td").nth(1).inner_text() == "Browser Team (your team)"  # the reader's own row
        assert row.locator("td").nth(2).inner_text() == "Browser baseline"

    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.SCORED and submission.submitted_by.username == "newcomer"
    # s1..s3 -> happy, sad, happy against happy, sad, angry: F1 = (1 + 1 + 0) weighted = 0.5556
    assert public_score == "0.555556" or public_score.startswith("0.5556")
