"""Breakdowns of a submission's scores (per class, per wheel, per dimension, per action unit) and the score's
bootstrap interval: on the API and the page, only where the split's score is visible, with the charts' data
and their table alternatives; the open-vocabulary per-sample explanation as a safe CSV."""

import json
from pathlib import Path

import pytest

from arena.challenges.services import phase_reveal_results
from arena.submissions.models import SubmissionScore, SubmissionStatus
from scorers import get_scorer
from tests.platform.factories import PhaseFactory, SubmissionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

WHEELS = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"
AU_HEADER = "image_location,AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26\n"

# scorer key -> (reference, prediction, options, assets): small files scored by the real scorers.
CASES = {
    "mer.discrete": (b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,happy\n",
                     b"name,discrete\ns1,happy\ns2,happy\ns3,angry\ns4,sad\n", {"bootstrap": 50, "seed": 1}, None),
    "mer.ov-wheel": (b"name,openset\na,\"['love']\"\n=HYPERLINK(1),\"furious, scared\"\n",
                     b"name,openset\na,\"[Warm, xyz]\"\n=HYPERLINK(1),angry\n", {"explain": True}, WHEELS),
    "abaw.va": (b"image_location,valence,arousal\nf1,-1,0.5\nf2,0.5,-5\nf3,1,0\n",
                b"image_location,valence,arousal\nf1,-0.9,0.4\nf2,0.3,0\nf3,0.95,-0.2\n", {}, None),
    "abaw.au": ((AU_HEADER + "f1,1,0,0,0,0,0,0,0,0,0,0,1\nf2,1,1,0,0,0,0,0,0,0,0,0,-1\n").encode(),
                (AU_HEADER + "f1,1,1,0,0,0,0,0,0,0,0,0,0\nf2,0,1,0,0,0,0,0,0,0,0,0,1\n").encode(), {}, None),
}


def _grid(cells: dict[tuple[int, int], int]) -> list[list[int]]:
    return [[cells.get((row, col), 0) for col in range(20)] for row in range(20)]


CLASSIFICATION = {
    "family": "classification",
    "labels": ["neutral", "angry", "happy", "sad", "worried", "surprise"],
    # s1 happy->happy, s2 sad->happy, s3 angry->angry, s4 happy->sad
    "confusion_matrix": [[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 1, 0, 0, 0],
                         [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]],
    "classes": [
        {"label": "neutral", "precision": None, "recall": None, "f1": 0.0, "support": 0},
        {"label": "angry", "precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
        {"label": "happy", "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
        {"label": "sad", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        {"label": "worried", "precision": None, "recall": None, "f1": 0.0, "support": 0},
        {"label": "surprise", "precision": None, "recall": None, "f1": 0.0, "support": 0},
    ],
}
OV_WHEEL = {
    "family": "ov-wheel", "level": "level1", "has_samples": True,
    "wheels": [
        {"wheel": "wheel1", "fscore": pytest.approx(6 / 7), "precision": 1.0, "recall": 0.75, "scored_samples": 2},
        {"wheel": "wheel2", "fscore": pytest.approx(2 / 3), "precision": 1.0, "recall": 0.5, "scored_samples": 1},
        {"wheel": "wheel3", "fscore": pytest.approx(2 / 3), "precision": 1.0, "recall": 0.5, "scored_samples": 1},
        {"wheel": "wheel4", "fscore": 0.5, "precision": 0.5, "recall": 0.5, "scored_samples": 2},
        {"wheel": "wheel5", "fscore": pytest.approx(2 / 3), "precision": 1.0, "recall": 0.5, "scored_samples": 1},
    ],
}
VA = {
    "family": "va",
    "ccc": {"valence": pytest.approx(0.9866610205377939, rel=1e-12), "arousal": pytest.approx(6 / 7, rel=1e-12)},
    # 20 bins of width 0.1 over [-1, 1]: -1 -> 0, -0.9 -> 1, 0.3 -> 13, 0.5 -> 15, 0.95 and 1 -> 19;
    # frame f2's arousal is not annotated (-5).
    "density": {"bins": 20, "range": [-1.0, 1.0], "valence": _grid({(0, 1): 1, (15, 13): 1, (19, 19): 1}),
                "arousal": _grid({(15, 14): 1, (10, 8): 1})},
}
AU = {"family": "au", "units": [
    {"unit": "AU1", "f1": pytest.approx(2 / 3), "tp": 1, "fp": 0, "fn": 1, "tn": 0},
    {"unit": "AU2", "f1": pytest.approx(2 / 3), "tp": 1, "fp": 1, "fn": 0, "tn": 0},
    *({"unit": unit, "f1": 0.0, "tp": 0, "fp": 0, "fn": 0, "tn": 2}
      for unit in ("AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23", "AU24", "AU25")),
    # f2's AU26 is not annotated (-1): only f1 counts, a missed positive.
    {"unit": "AU26", "f1": 0.0, "tp": 0, "fp": 0, "fn": 1, "tn": 0},
]}


def _at_ring(level: str) -> dict:
    """The ov-wheel case scored on its own at ring ``level``: what the breakdown's per-ring row must say."""
    gold, pred, options, assets = CASES["mer.ov-wheel"]
    result = get_scorer("mer.ov-wheel").score(gold=gold, pred=pred, options={**options, "level": level},
                                              assets=assets)
    return {"level": level, **{name: pytest.approx(result.metrics[name], rel=1e-12)
                               for name in ("fscore", "precision", "recall")}}


# At the inner ring: the mean over the wheels of the table above.
OV_WHEEL["levels"] = [
    {"level": "level1", "fscore": pytest.approx((6 / 7 + 2 / 3 + 2 / 3 + 0.5 + 2 / 3) / 5),
     "precision": pytest.approx(0.9), "recall": pytest.approx(0.55)},
    _at_ring("level2"),
]
EXPECTED = {"mer.discrete": CLASSIFICATION, "mer.ov-wheel": OV_WHEEL, "abaw.va": VA, "abaw.au": AU}


def _scored(key: str, *, member, organiser=None):
    """A scored submission of ``member``'s team on a phase of track ``key``: both splits scored by the real
    scorer on the case's files (the private split on the same files)."""
    gold, pred, options, assets = CASES[key]
    phase = PhaseFactory(track__scorer_key=key, track__scorer_options=options,
                         track__challenge__organisers=[organiser] if organiser else [])
    team = TeamFactory(challenge=phase.track.challenge, members=[member])
    sub = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED)
    results = get_scorer(key).score_splits(golds={"public": gold, "private": gold}, pred=pred, options=options,
                                           assets=assets)
    for split, result in results.items():
        payload = result.to_json()
        SubmissionScore.objects.create(submission=sub, split=split, score=payload["score"],
                                       metrics=payload["metrics"], breakdown=payload["breakdown"])
    return sub


@pytest.fixture
def member(client):
    user = UserFactory(username="member")
    client.force_login(user)
    return user


@pytest.mark.parametrize("key", list(CASES))
def test_api_gives_each_familys_breakdown(client, member, key):
    sub = _scored(key, member=member)
    public = client.get(f"/api/v1/submissions/{sub.pk}").json()["scores"]["public"]
    assert public["breakdown"] == EXPECTED[key]
    stored = SubmissionScore.objects.get(submission=sub, split="public").breakdown
    if key == "mer.discrete":  # the only case scored with a bootstrap
        assert public["interval"] == {"low": stored["bootstrap"]["low"], "high": stored["bootstrap"]["high"],
                                      "level": 0.95}
        assert stored["bootstrap"]["low"] < public["score"] < stored["bootstrap"]["high"]
    else:
        assert public["interval"] is None


def test_hidden_split_shows_no_breakdown_interval_or_explanation_until_the_reveal(client, member):
    organiser = UserFactory(username="org")
    sub = _scored("mer.ov-wheel", member=member, organiser=organiser)
    csv_url = f"/submissions/{sub.pk}/private/explanation.csv"
    scores = client.get(f"/api/v1/submissions/{sub.pk}").json()["scores"]
    assert list(scores) == ["public"]
    page = client.get(f"/submissions/{sub.pk}/").text
    assert 'id="breakdown-public"' in page and 'id="breakdown-private"' not in page
    assert "chart-private-" not in page and "private/explanation.csv" not in page
    assert client.get(csv_url).status_code == 404
    assert client.get(f"/submissions/{sub.pk}/public/explanation.csv").status_code == 200

    phase_reveal_results(actor=organiser, phase=sub.phase)
    scores = client.get(f"/api/v1/submissions/{sub.pk}").json()["scores"]
    assert scores["private"]["breakdown"] == OV_WHEEL and scores["private"]["interval"] is None
    assert 'id="breakdown-private"' in client.get(f"/submissions/{sub.pk}/").text
    assert client.get(csv_url).status_code == 200


def test_a_board_hidden_until_reveal_hides_every_breakdown(client, member):
    sub = _scored("mer.discrete", member=member)
    sub.phase.board_visibility = "hidden"
    sub.phase.save(update_fields=["board_visibility"])
    assert client.get(f"/api/v1/submissions/{sub.pk}").json()["scores"] == {}
    page = client.get(f"/submissions/{sub.pk}/").text
    assert "breakdown-" not in page and "data-chart" not in page and "chart.umd.min.js" not in page


@pytest.mark.parametrize("who, status", [("anonymous", 302), ("rival", 404), ("organiser", 200)])
def test_explanation_csv_access(client, who, status):
    member, organiser, rival = UserFactory(username="m"), UserFactory(username="o"), UserFactory(username="r")
    sub = _scored("mer.ov-wheel", member=member, organiser=organiser)
    TeamFactory(challenge=sub.phase.track.challenge, members=[rival])
    if who != "anonymous":
        client.force_login({"rival": rival, "organiser": organiser}[who])
    assert client.get(f"/submissions/{sub.pk}/private/explanation.csv").status_code == status


def test_explanation_csv_rows_are_safe_in_a_spreadsheet(client, member):
    sub = _scored("mer.ov-wheel", member=member)
    response = client.get(f"/submissions/{sub.pk}/public/explanation.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="submission-{sub.pk}-public-explanation.csv"' in response["Content-Disposition"]
    assert response.content.decode().splitlines() == [
        "name,gold,pred,precision_wheel1,recall_wheel1,precision_wheel2,recall_wheel2,precision_wheel3,"
        "recall_wheel3,precision_wheel4,recall_wheel4,precision_wheel5,recall_wheel5",
        "a,love,warm; xyz,1.0,1.0,,,,,1.0,1.0,,",
        # The participant-chosen key starts like a formula: quoted so a spreadsheet shows it as text.
        "'=HYPERLINK(1),furious; scared,angry,1.0,0.5,1.0,0.5,1.0,0.5,0.0,0.0,1.0,0.5",
    ]


def test_no_explanation_csv_without_the_explain_option(client, member):
    sub = _scored("mer.discrete", member=member)
    assert client.get(f"/submissions/{sub.pk}/public/explanation.csv").status_code == 404
    assert "explanation.csv" not in client.get(f"/submissions/{sub.pk}/").text


def _chart(page: str, chart_id: str) -> dict:
    start = page.index(f'<script id="{chart_id}" type="application/json">') + len(
        f'<script id="{chart_id}" type="application/json">')
    return json.loads(page[start:page.index("</script>", start)])


def test_page_embeds_the_charts_and_their_tables(client, member):
    sub = _scored("mer.discrete", member=member)
    page = client.get(f"/submissions/{sub.pk}/").text
    heatmap = _chart(page, "chart-public-confusion")
    assert heatmap == {"type": "heatmap",
                       "title": "Confusion matrix, public split: reference classes down, predicted across",
                       "xLabels": CLASSIFICATION["labels"], "yLabels": CLASSIFICATION["labels"],
                       "values": CLASSIFICATION["confusion_matrix"], "x": {"title": "predicted"},
                       "y": {"title": "reference"}}
    bars = _chart(page, "chart-public-classes")
    assert bars["type"] == "bar" and bars["labels"] == CLASSIFICATION["labels"]
    assert bars["series"][2] == {"label": "f1", "values": [0.0, 1.0, 0.5, 0.0, 0.0, 0.0]}
    assert '<canvas data-chart="chart-public-confusion" role="img" aria-label="Confusion matrix' in page
    # The table alternatives: per-class precision/recall/F1 and the confusion matrix's counts.
    assert 'id="classes-public"' in page and 'id="confusion-public"' in page
    assert ('<tr><th scope="row">happy</th><td>0</td><td>0</td><td>1</td><td>1</td><td>0</td><td>0</td></tr>'
            in page)
    assert '<th scope="row">happy</th><td>0.5000</td><td>0.5000</td><td>0.5000</td><td>2</td>' in page
    assert "vendor/chart.umd.min.js" in page and "arena/charts.js" in page
    stored = SubmissionScore.objects.get(submission=sub, split="public").breakdown["bootstrap"]
    assert f"{stored['low']:.4f} to {stored['high']:.4f} (95% bootstrap)" in page


def test_page_shows_va_density_and_au_tables(client, member):
    va = _scored("abaw.va", member=member)
    page = client.get(f"/submissions/{va.pk}/").text
    assert 'id="ccc-public"' in page and 'id="density-public-valence"' in page
    density = _chart(page, "chart-public-arousal")
    assert density["type"] == "heatmap" and density["hideValues"] is True
    assert density["values"][19 - 15][14] == 1  # reference rises upwards: row 0 is the top bin
    au = _scored("abaw.au", member=UserFactory(username="au-member"))
    client.force_login(au.team.memberships.get().user)
    page = client.get(f"/submissions/{au.pk}/").text
    assert '<th scope="row">AU26</th><td>0.0000</td><td>0</td><td>0</td><td>1</td><td>0</td>' in page
    assert _chart(page, "chart-public-units")["series"] == [{"label": "F1", "values": [
        pytest.approx(2 / 3), pytest.approx(2 / 3), *[0.0] * 10]}]


def test_phase_page_charts_the_teams_score_history_on_visible_splits(client, member):
    organiser = UserFactory(username="org")
    first = _scored("mer.discrete", member=member, organiser=organiser)
    phase, team = first.phase, first.team
    second = SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.SCORED, method_name="Second")
    SubmissionScore.objects.create(submission=second, split="public", score=0.75, metrics={"waf": 0.75})
    SubmissionScore.objects.create(submission=second, split="private", score=0.625, metrics={"waf": 0.625})
    SubmissionFactory(phase=phase, team=team, status=SubmissionStatus.QUEUED)  # no score: not charted
    url = f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/"
    page = client.get(url).text
    spec = _chart(page, "chart-score-history")
    assert spec["type"] == "line" and spec["x"] == {"type": "time", "title": "submitted (UTC)"}
    assert spec["series"] == [{"label": "public", "points": [
        {"x": first.created_at.isoformat(), "y": 0.5, "label": f"#{first.pk} {first.method_name}"},
        {"x": second.created_at.isoformat(), "y": 0.75, "label": f"#{second.pk} Second"}]}]
    assert 'id="score-history-table"' in page and "0.6250" not in page  # the private split is hidden

    phase_reveal_results(actor=organiser, phase=phase)
    spec = _chart(client.get(url).text, "chart-score-history")
    assert [s["label"] for s in spec["series"]] == ["public", "private"]
    assert [p["y"] for p in spec["series"][1]["points"]] == [0.5, 0.625]


def test_phase_page_without_scores_has_no_chart(client, member):
    phase = PhaseFactory()
    TeamFactory(challenge=phase.track.challenge, members=[member])
    page = client.get(f"/c/{phase.track.challenge.slug}/t/{phase.track.slug}/p/{phase.slug}/").text
    assert "chart-score-history" not in page and "chart.umd.min.js" not in page


def test_the_page_gives_the_ov_wheel_score_at_every_ring(client, member):
    sub = _scored("mer.ov-wheel", member=member)
    page = client.get(f"/submissions/{sub.pk}/").text
    table = page[page.index('id="levels-public"'):]
    table = table[:table.index("</table>")]
    assert '<tr class="scored-level"><th scope="row">level1</th>' in table
    assert '<th scope="row">level2</th>' in table
