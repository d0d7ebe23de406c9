"""Downloaded CSV never runs as a formula in a spreadsheet, and scores stay numbers."""

import csv
import io

import pytest

from arena.core.csv_safety import SafeCsvWriter, safe_cell
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import SubmissionScore, SubmissionStatus
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory

# name -> how the cell reads back from the CSV
FORMULAS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
    "+1+1": "'+1+1",
    "-2+3": "'-2+3",
    "@SUM(A1)": "'@SUM(A1)",
    "\tx": "'\tx",
    "\rx": "'\rx",
}


@pytest.mark.parametrize(("value", "cell"), list(FORMULAS.items()))
def test_text_that_starts_like_a_formula_is_prefixed(value, cell):
    assert safe_cell(value) == cell


@pytest.mark.parametrize("value", ["-0.25", "1e-3", "+3", "-.5", "12", "0.5E+10"])
def test_numbers_written_as_text_are_kept(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", [-0.25, 1e-3, -7, 0, None])
def test_numbers_and_empty_cells_are_unchanged(value):
    assert safe_cell(value) == value and type(safe_cell(value)) is type(value)


@pytest.mark.parametrize("value", ["Team A", "wav2vec 2.0", "", "x=1", "a-b", "'quoted", "1-2"])
def test_ordinary_text_is_unchanged(value):
    assert safe_cell(value) == value


def test_the_writer_applies_the_rule_to_every_cell():
    out = io.StringIO()
    writer = SafeCsvWriter(out, lineterminator="\n")
    writer.writerows([["=1+1", -0.25, "-0.25", "ok"], ["@x", None, 3, "-1+1"]])
    assert out.getvalue() == "'=1+1,-0.25,-0.25,ok\n'@x,,3,'-1+1\n"


def test_a_line_break_inside_a_name_cannot_start_a_row():
    out = io.StringIO()
    SafeCsvWriter(out, lineterminator="\n").writerows([["team\r=1+1", -0.25, 2], ["next", 0.5, 3]])
    assert out.getvalue() == '"team\r=1+1",-0.25,2\nnext,0.5,3\n'
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [
        ["team\r=1+1", "-0.25", "2"], ["next", "0.5", "3"]]


@pytest.mark.django_db
def test_leaderboard_csv_downloads_neutralise_names_and_keep_scores(client):
    phase = PhaseFactory(track__scorer_key="mer.multi")
    challenge = phase.track.challenge
    for index, name in enumerate(FORMULAS):
        team = TeamFactory(challenge=challenge, name=name)
        sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, method_name=name)
        score = -0.25 - index / 100  # distinct scores give a fixed order
        SubmissionScore.objects.create(submission=sub, split="public", score=score,
                                       metrics={"waf": score, "mse": 1e-3})
    leaderboard_refresh(phase_id=phase.pk)
    api = client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv")
    page = client.get(f"/c/{challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/leaderboard.csv")
    assert api.status_code == page.status_code == 200
    assert api.content == page.content
    rows = list(csv.DictReader(io.StringIO(api.content.decode("utf-8"), newline="")))
    assert [(r["team"], r["method"]) for r in rows] == [(cell, cell) for cell in FORMULAS.values()]
    assert [r["score"] for r in rows] == [repr(-0.25 - i / 100) for i in range(len(FORMULAS))]
    assert {(r["waf"] == r["score"], r["mse"]) for r in rows} == {(True, "0.001")}


@pytest.mark.django_db
def test_boards_stored_before_the_upgrade_are_rewritten_by_the_refresh_command():
    from io import StringIO

    from django.core.management import call_command

    from arena.leaderboards.models import LeaderboardSnapshot
    from arena.submissions.services import lifecycle
    from tests.platform.factories import SubmissionFactory, TeamFactory

    sub = SubmissionFactory(team=TeamFactory(name="=cmd|' /C calc'!A0"))
    token = lifecycle.submission_mark_queued(submission_id=sub.pk)
    from arena.submissions.services.scoring import submission_score

    assert submission_score(submission_id=sub.pk, token=token) == "scored"
    LeaderboardSnapshot.objects.filter(phase=sub.phase).update(csv="team\n=cmd|' /C calc'!A0\n")  # an old export
    out = StringIO()
    call_command("refresh_leaderboards", stdout=out)
    assert out.getvalue().strip().endswith("refreshed the boards of 1 phase(s)")
    public = LeaderboardSnapshot.objects.get(phase=sub.phase, split="public").csv
    assert "'=cmd|' /C calc'!A0" in public and "\n=cmd" not in public
