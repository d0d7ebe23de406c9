"""The dashboard in a real browser: sign in, open /me/, read the team's next step and watch a
submission's status change without reloading (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import pytest

from arena.submissions.models import Submission, SubmissionStatus
from tests.browser.test_participant_journey import browser_page  # noqa: F401  (the fixture)
from tests.platform.factories import PhaseFactory, SubmissionFactory, UserFactory, ready_team

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_shows_the_next_step_and_a_live_status(live_server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    ada = UserFactory(username="ada")
    phase = PhaseFactory(track__challenge__slug="mer", track__challenge__title="MER", track__slug="semi",
                         track__title="MER-SEMI", slug="val", title="Validation")
    team = ready_team(challenge=phase.track.challenge, members=[ada], name="Owls")
    submission = SubmissionFactory(phase=phase, team=team, method_name="wav2vec", status=SubmissionStatus.QUEUED)
    base = live_server.url

    page.goto(f"{base}/accounts/login/?next=/me/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-for-tests-123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/me/")
    assert page.get_attribute("header a[href='/me/']", "href") == "/me/"

    card = page.locator(f"#team-{team.pk}")
    assert card.locator(".next-step").inner_text() == "Ready to submit."
    assert card.locator("a.button").get_attribute("href") == "/c/mer/t/semi/p/val/"
    assert card.locator(".limit-per_day").inner_text() == "4 of 5 left today (resets 00:00 UTC)"
    row = page.locator(f"#recent-submissions tr[data-submission='{submission.pk}']")
    assert row.locator("[data-status]").inner_text() == "Queued"

    # Scored by the workers meanwhile: the page follows without a reload.
    Submission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.SCORED)
    page.wait_for_selector(f"tr[data-submission='{submission.pk}'] [data-status=scored]", timeout=30_000)
    assert row.locator("[data-status]").inner_text() == "Scored"
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 0
