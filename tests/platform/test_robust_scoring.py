"""Scoring per robustness condition: combining the conditions (pure), the containers' predictions archive,
and a submission scored through the real scoring service, on the board, in the CSV, the API and its page,
without leaking the scores of a split the reader may not see."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from arena.challenges.models import BoardVisibility, SubmissionKind
from arena.challenges.robustness import parse_protocol
from arena.leaderboards.models import LeaderboardEntry, LeaderboardSnapshot
from arena.submissions.models import FailureCause, Submission, SubmissionScore, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.robust_scoring import (
    ConditionPredictions,
    PredictionsArchiveError,
    combine_conditions,
    missing_predictions_message,
    score_condition_files,
    unpack_condition_predictions,
)
from arena.submissions.services.scoring import UNREADABLE_RUN_MESSAGE, submission_score_held
from scorers import ScoreResult, get_scorer
from tests.platform.factories import (
    DISCRETE_PRIVATE,
    DISCRETE_PUBLIC,
    PhaseFactory,
    SubmissionFactory,
    TeamFactory,
    UserFactory,
)

PROTOCOL = {
    "conditions": [
        {"name": "clean", "condition": "clean"},
        {"name": "snr10", "condition": "noise:white@10db"},
        {"name": "snr0", "condition": "noise:white@0db"},
        {"name": "blur4", "condition": "blur:4"},
    ],
    "seed": 7, "summary": "mean", "on_failure": "condition",
}
NAMES = ["clean", "snr10", "snr0", "blur4"]
SPECS = {"clean": ("clean", "clean", 0.0), "snr10": ("noise:white@10db", "noise:white", 1.0),
         "snr0": ("noise:white@0db", "noise:white", 2.0), "blur4": ("blur:4", "blur", 1.0)}


def _protocol(**changes):
    return dataclasses.replace(parse_protocol(PROTOCOL), **changes)


def _result(score: float, mse: float) -> ScoreResult:
    return ScoreResult(score=score, metrics={"waf": score, "mse": mse}, breakdown={"support": {"happy": 2}})


SCORES = {"clean": (0.8, 0.1), "snr10": (0.6, 0.2), "snr0": (0.4, 0.3), "blur4": (0.5, 0.25)}


def _results(scores=SCORES, splits=("public",)):
    return {name: {split: _result(*values) for split in splits} for name, values in scores.items()}


def _entry(name, score, metrics, error=None):
    spec, family, severity = SPECS[name]
    entry = {"name": name, "condition": spec, "family": family, "severity": severity, "score": score,
             "metrics": metrics}
    if error is not None:
        entry["error"] = error
    return entry


# --- combining (pure) -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("summary", "score", "mse"), [("mean", 0.575, 0.2125), ("worst", 0.4, 0.3),
                                                        ("auc", 0.625, 0.1875)])
def test_each_summary_rule_gives_the_exact_split_score_and_metrics(summary, score, mse):
    # mean: (0.8 + 0.6 + 0.4 + 0.5) / 4; worst: the lowest waf, the highest mse (lower is better);
    # auc: noise curve (0,0.8)-(1,0.6)-(2,0.4) has area 1.2 over range 2 = 0.6, blur (0,0.8)-(1,0.5) 0.65;
    # mse the same way: noise 0.4 / 2 = 0.2, blur 0.175.
    outcome = combine_conditions(protocol=_protocol(summary=summary), results=_results(), failures={},
                                 splits=["public"])
    payload = outcome.payloads["public"]
    assert outcome.failure is None
    assert payload["score"] == score
    assert payload["metrics"] == {"waf": score, "mse": pytest.approx(mse, abs=1e-15)}


def test_the_payload_holds_the_clean_breakdown_the_curves_and_every_condition_in_protocol_order():
    payload = combine_conditions(protocol=_protocol(), results=_results(), failures={},
                                 splits=["public"]).payloads["public"]
    assert payload["breakdown"] == {
        "support": {"happy": 2},
        "robustness": {"summary": "mean", "curves": {"noise:white": [[0.0, 0.8], [1.0, 0.6], [2.0, 0.4]],
                                                     "blur": [[0.0, 0.8], [1.0, 0.5]]}},
    }
    assert payload["conditions"] == [_entry(name, SCORES[name][0], {"waf": SCORES[name][0], "mse": SCORES[name][1]})
                                     for name in NAMES]


def test_a_failed_condition_scores_the_worst_value_and_keeps_its_message():
    results = _results()
    del results["snr0"]
    outcome = combine_conditions(protocol=_protocol(), results=results,
                                 failures={"snr0": "The run took longer than 60 s."}, splits=["public"],
                                 worst_score=0.0, primary_metric="waf")
    payload = outcome.payloads["public"]
    assert outcome.failure is None
    assert payload["score"] == 0.475  # (0.8 + 0.6 + 0 + 0.5) / 4
    # The primary metric takes the scale's floor too; no other metric has a summary over a failed condition.
    assert payload["metrics"] == {"waf": 0.475, "mse": None}
    assert payload["conditions"][2] == _entry("snr0", None, {}, "The run took longer than 60 s.")
    assert payload["breakdown"]["robustness"]["curves"]["noise:white"] == [[0.0, 0.8], [1.0, 0.6], [2.0, None]]


def test_on_failure_submission_fails_the_whole_submission_naming_each_condition():
    results = {"clean": _results()["clean"]}
    failures = {"snr10": "The run took longer than 60 s.", "snr0": missing_predictions_message(["snr0"]),
                "blur4": missing_predictions_message(["blur4"])}
    outcome = combine_conditions(protocol=_protocol(on_failure="submission"), results=results, failures=failures,
                                 splits=["public"])
    assert outcome.payloads == {}
    assert outcome.failure == (
        "Your model failed under 3 of the 4 conditions of this phase, which scores a submission only when every "
        "condition succeeds. snr10: The run took longer than 60 s. Your model wrote no predictions for conditions "
        "snr0 and blur4.")


def test_every_condition_failing_fails_the_submission_whatever_on_failure_says():
    failures = {name: f"{name}: prediction file: broken" for name in NAMES}
    outcome = combine_conditions(protocol=_protocol(), results={}, failures=failures, splits=["public"])
    assert outcome.failure == (
        "Your model failed under every condition of this phase, so it has no score. clean: prediction file: broken. "
        "snr10: prediction file: broken. snr0: prediction file: broken. blur4: prediction file: broken.")


# --- the predictions archive ------------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_missing_conditions_fail_with_one_message_naming_them(tmp_path):
    archive = tmp_path / "predictions.zip"
    archive.write_bytes(_zip({"clean.csv": b"name,discrete\n", "../snr10.csv": b"x", "failures.json":
                              json.dumps({"snr0": "Out of memory\nunder this condition.", "other": "x"}).encode()}))
    predictions = unpack_condition_predictions(archive, protocol=_protocol(), dest=tmp_path / "out", max_mb=1)
    assert list(predictions.files) == ["clean"]
    assert predictions.files["clean"].read_bytes() == b"name,discrete\n"
    assert predictions.failures == {
        "snr10": "Your model wrote no predictions for condition snr10.",
        "snr0": "Out of memory under this condition.",
        "blur4": "Your model wrote no predictions for condition blur4.",
    }
    outcome = combine_conditions(protocol=_protocol(on_failure="submission"), results=_results(),
                                 failures=predictions.failures, splits=["public"])
    assert outcome.failure == (
        "Your model failed under 3 of the 4 conditions of this phase, which scores a submission only when every "
        "condition succeeds. snr0: Out of memory under this condition. Your model wrote no predictions for "
        "conditions snr10 and blur4.")


def test_a_prediction_over_the_limit_fails_its_condition_only(tmp_path):
    archive = tmp_path / "predictions.zip"
    big = b"name,discrete\n" + b"s1,happy\n" * 200_000  # about 1.8 MB, compressing to almost nothing
    archive.write_bytes(_zip({"clean.csv": big, "snr10.csv": b"a", "snr0.csv": b"b", "blur4.csv": b"c"}))
    predictions = unpack_condition_predictions(archive, protocol=_protocol(), dest=tmp_path / "out", max_mb=1)
    assert sorted(predictions.files) == ["blur4", "snr0", "snr10"]
    assert predictions.failures == {
        "clean": "Your model's predictions for condition clean are larger than this track's limit of 1 MB."}


@pytest.mark.parametrize(("content", "reason"), [
    (b"not a zip at all", "the archive cannot be read"),
    (_zip({f"m{i}.csv": b"" for i in range(65)}), "the archive holds 65 members (at most 64)"),
    (_zip({"failures.json": b"[1, 2]"}), "failures.json is not an object of condition name to message"),
    (_zip({"failures.json": b"\xff"}), "failures.json is not JSON"),
])
def test_an_archive_the_worker_cannot_have_written_is_refused(tmp_path, content, reason):
    archive = tmp_path / "predictions.zip"
    archive.write_bytes(content)
    with pytest.raises(PredictionsArchiveError) as caught:
        unpack_condition_predictions(archive, protocol=_protocol(), dest=tmp_path / "out", max_mb=1)
    assert str(caught.value).startswith(reason)


def test_a_member_named_twice_is_refused(tmp_path):
    archive = tmp_path / "predictions.zip"
    with zipfile.ZipFile(archive, "w") as zipped, pytest.warns(UserWarning):
        zipped.writestr("clean.csv", b"a")
        zipped.writestr("clean.csv", b"b")
    with pytest.raises(PredictionsArchiveError, match="the archive holds 'clean.csv' twice"):
        unpack_condition_predictions(archive, protocol=_protocol(), dest=tmp_path / "out", max_mb=1)


def test_a_condition_whose_predictions_do_not_parse_fails_alone_with_the_scorers_message(tmp_path):
    gold = tmp_path / "gold.csv"
    gold.write_bytes(b"name,discrete\ns1,happy\ns2,sad\n")
    files = {}
    for name, data in (("clean", b"name,discrete\ns1,happy\ns2,sad\n"), ("snr10", b"name,discrete\ns1,happy\n"),
                       ("snr0", b"name,discrete\ns1,happy\ns2,happy\n"), ("blur4", b"name,discrete\ns1,sad\ns2,sad\n")):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_bytes(data)
    outcome = score_condition_files(scorer=get_scorer("mer.discrete"), protocol=_protocol(), golds={"public": gold},
                                    predictions=ConditionPredictions(files=files), options={}, assets=None,
                                    candidates=None)
    conditions = outcome.payloads["public"]["conditions"]
    assert [c["score"] for c in conditions] == [1.0, None, 1 / 3, 1 / 3]
    assert conditions[1]["error"] == ("snr10: prediction file, column 'name': no row for name 's2' (1 of 2 test "
                                      "keys have no row); write one row for every candidate")
    assert outcome.payloads["public"]["score"] == (1.0 + 0.0 + 1 / 3 + 1 / 3) / 4


# --- through the scoring service --------------------------------------------------------------------------------

HEADER = "name,discrete"
PREDICTIONS = {
    "clean": b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n",
    "snr10": b"name,discrete\ns1,happy\ns2,happy\ns3,angry\ns4,neutral\ns5,sad\n",
    "blur4": b"name,discrete\ns1,sad\ns2,sad\ns3,sad\ns4,worried\ns5,worried\n",
}
SNR0_ERROR = "The model did not finish within 60 s under this condition."


def _expected(split: str, name: str) -> ScoreResult:
    gold = DISCRETE_PUBLIC if split == "public" else DISCRETE_PRIVATE
    keys = {line.split(b",")[0] for line in gold.splitlines()[1:]}
    rows = [line for line in PREDICTIONS[name].splitlines()[1:] if line.split(b",")[0] in keys]
    return get_scorer("mer.discrete").score(gold=gold, pred=b"\n".join([HEADER.encode(), *rows]) + b"\n")


def _expected_conditions(split: str) -> list[dict]:
    entries = []
    for name in NAMES:
        if name == "snr0":
            entries.append(_entry(name, None, {}, SNR0_ERROR))
        else:
            result = _expected(split, name).to_json()
            entries.append(_entry(name, result["score"], result["metrics"]))
    return entries


def _container_world(protocol=PROTOCOL, members=None, **phase_fields):
    organiser, member, outsider = UserFactory(), UserFactory(), UserFactory()
    phase = PhaseFactory(track__accepts_containers=True, track__accepts_files=False,
                         track__challenge__organisers=[organiser],
                         robustness_protocol=protocol, **phase_fields)
    team = TeamFactory(challenge=phase.track.challenge, name="Robust team", members=[member])
    if members is None:
        members = {"clean.csv": PREDICTIONS["clean"], "snr10.csv": PREDICTIONS["snr10"],
                   "blur4.csv": PREDICTIONS["blur4"], "failures.json": json.dumps({"snr0": SNR0_ERROR}).encode()}
    submission = SubmissionFactory(phase=phase, team=team, kind=SubmissionKind.CONTAINER, method_name="Robust model",
                                   file=ContentFile(_zip(members), name="predictions.zip"))
    return phase, submission, {"organiser": organiser, "member": member, "outsider": outsider}


def _score_held(submission: Submission) -> str:
    """What the container worker does once the runs are done: the submission is held, in scoring."""
    assert lifecycle.submission_mark_queued(submission_id=submission.pk)
    token = Submission.objects.values_list("claim_token", flat=True).get(pk=submission.pk)
    assert lifecycle.submission_claim(submission_id=submission.pk, token=token, to=SubmissionStatus.SCORING)
    return submission_score_held(submission_id=submission.pk, token=token)


CSV_HEADER = ("rank,team,method,baseline,score,waf,accuracy,condition:clean,condition:snr10,condition:snr0,"
              "condition:blur4,entries,submitted_at,submission_id")


@pytest.mark.django_db
def test_a_container_submission_is_scored_per_condition_and_shown_everywhere(client):
    phase, submission, users = _container_world()
    assert _score_held(submission) == SubmissionStatus.SCORED

    scores = {s.split: s for s in SubmissionScore.objects.filter(submission=submission)}
    for split in ("public", "private"):
        expected = _expected_conditions(split)
        assert scores[split].conditions == expected
        by_name = {c["name"]: c["score"] for c in expected}
        assert scores[split].score == (by_name["clean"] + by_name["snr10"] + 0.0 + by_name["blur4"]) / 4
        assert scores[split].metrics["waf"] == scores[split].score
        assert scores[split].breakdown["robustness"]["summary"] == "mean"
        assert scores[split].breakdown["labels"] == _expected(split, "clean").breakdown["labels"]

    public = {c["name"]: c["score"] for c in _expected_conditions("public")}
    entry = LeaderboardEntry.objects.get(phase=phase, split="public")
    assert entry.conditions == public
    assert json.loads(entry.row_json)["conditions"] == public
    csv_lines = LeaderboardSnapshot.objects.get(phase=phase, split="public").csv.splitlines()
    assert csv_lines[0] == CSV_HEADER
    cells = csv_lines[1].split(",")
    assert cells[7:11] == [repr(public["clean"]), repr(public["snr10"]), "", repr(public["blur4"])]

    client.force_login(users["member"])
    board = client.get(f"/api/v1/phases/{phase.pk}/leaderboard").json()
    assert board["entries"][0]["conditions"] == public
    assert list(board["entries"][0]["conditions"]) == NAMES
    challenge, track = phase.track.challenge, phase.track
    html = client.get(f"/c/{challenge.slug}/t/{track.slug}/p/{phase.slug}/leaderboard/").text
    assert [f'title="waf under condition {name}">{name}</th>' in html for name in NAMES] == [True] * 4
    assert f'<td class="condition">{public["snr10"]:.4f}</td>' in html
    assert '<td class="condition"><span title="failed under this condition">failed</span></td>' in html
    assert 'id="robustness-rule"' in html
    detail = client.get(f"/api/v1/submissions/{submission.pk}").json()
    assert list(detail["scores"]) == ["public"]  # the private split is not revealed
    assert detail["scores"]["public"]["conditions"] == _expected_conditions("public")
    private_score = repr(scores["private"].conditions[1]["score"])
    for path in (f"/api/v1/phases/{phase.pk}/leaderboard?split=private",
                 f"/api/v1/phases/{phase.pk}/leaderboard.csv?split=private"):
        response = client.get(path)
        assert response.status_code == 403 and private_score not in response.text

    client.force_login(users["organiser"])
    detail = client.get(f"/api/v1/submissions/{submission.pk}").json()
    assert detail["scores"]["private"]["conditions"] == _expected_conditions("private")
    private_board = client.get(f"/api/v1/phases/{phase.pk}/leaderboard?split=private").json()
    assert private_board["entries"][0]["conditions"] == {c["name"]: c["score"] for c in _expected_conditions("private")}


def _without_times(body: str) -> str:
    """The body without its dates and times, whose seconds ("10:50:10.812") may contain a score's digits."""
    return re.sub(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?", "", body)


@pytest.mark.django_db
def test_a_hidden_board_leaks_no_condition_score_in_any_channel(client):
    phase, submission, users = _container_world(board_visibility=BoardVisibility.HIDDEN)
    assert _score_held(submission) == SubmissionStatus.SCORED
    scores = SubmissionScore.objects.filter(submission=submission)
    secrets = [repr(c["score"]) for s in scores for c in s.conditions if c["score"] is not None]
    assert secrets and LeaderboardEntry.objects.filter(phase=phase).exclude(conditions={}).exists()
    client.force_login(users["member"])
    detail = client.get(f"/api/v1/submissions/{submission.pk}")
    assert detail.json()["scores"] == {}
    page = client.get(f"/submissions/{submission.pk}/")
    assert page.status_code == 200 and "<svg" not in page.text and 'id="conditions-' not in page.text
    challenge, track = phase.track.challenge, phase.track
    board_page = f"/c/{challenge.slug}/t/{track.slug}/p/{phase.slug}/leaderboard"
    for path in (f"/api/v1/phases/{phase.pk}/leaderboard", f"/api/v1/phases/{phase.pk}/leaderboard.csv",
                 f"/api/v1/phases/{phase.pk}/leaderboard?split=private", f"{board_page}/", f"{board_page}.csv"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert not any(secret in _without_times(response.content.decode()) for secret in secrets), path
    for body in (detail.content.decode(), page.text):
        assert not any(secret in _without_times(body) for secret in secrets)

    client.force_login(users["organiser"])
    assert client.get(f"/api/v1/submissions/{submission.pk}").json()["scores"]["private"]["conditions"] \
        == _expected_conditions("private")


@pytest.mark.django_db
def test_the_submission_page_shows_the_condition_table_and_the_robustness_curve(client):
    phase, submission, users = _container_world()
    _score_held(submission)
    client.force_login(users["member"])
    page = client.get(f"/submissions/{submission.pk}/")
    assert page.status_code == 200
    text = page.text
    assert 'id="conditions-public"' in text and 'id="conditions-private"' not in text
    assert '<th scope="row">snr0</th>' in text and SNR0_ERROR in text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text and 'role="img"' in text
    assert 'aria-labelledby="curve-public-title curve-public-desc"' in text
    assert text.count("<polyline") == 2  # one line per family: noise:white, blur
    public = {c["name"]: c["score"] for c in _expected_conditions("public")}
    assert f"severity 0 waf {public['clean']:.4f}, severity 1 waf {public['snr10']:.4f}" in text
    assert "<title>snr0: severity 2, failed</title>" in text  # marked on the severity axis, not drawn at 0
    assert "<script src=\"http" not in text


@pytest.mark.django_db
def test_the_submission_page_embeds_the_robustness_line_chart_with_the_exact_curves(client):
    phase, submission, users = _container_world()
    _score_held(submission)
    client.force_login(users["member"])
    text = client.get(f"/submissions/{submission.pk}/").text
    spec = json.loads(text.split('<script id="chart-public-robustness" type="application/json">', 1)[1]
                      .split("</script>", 1)[0])
    public = {c["name"]: c["score"] for c in _expected_conditions("public")}
    assert spec == {
        "type": "line",
        "title": "Robustness curve, public split: waf against severity, one line per corruption family, "
                 "clean at severity 0",
        "x": {"type": "linear", "title": "severity"}, "y": {"title": "waf"},
        "series": [
            # A failed condition (snr0) is a gap in its line, not a zero.
            {"label": "noise:white", "points": [{"x": 0.0, "y": public["clean"]}, {"x": 1.0, "y": public["snr10"]},
                                                {"x": 2.0, "y": None}]},
            {"label": "blur", "points": [{"x": 0.0, "y": public["clean"]}, {"x": 1.0, "y": public["blur4"]}]},
        ],
    }
    assert '<canvas data-chart="chart-public-robustness" role="img"' in text
    assert "chart-private-robustness" not in text  # the private split is not revealed
    # The server-drawn curve stays for readers without scripts, after the chart and the table.
    noscript = text.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in noscript and noscript.count("<polyline") == 2
    assert text.index('id="conditions-public"') < text.index('data-chart="chart-public-robustness"')
    assert "arena/vendor/chart.umd.min.js" in text and "arena/charts.js" in text


@pytest.mark.django_db
def test_on_failure_submission_fails_the_submission_with_every_failed_condition():
    protocol = {**PROTOCOL, "on_failure": "submission"}
    members = {"clean.csv": PREDICTIONS["clean"], "snr10.csv": b"name,discrete\ns1,elated\n",
               "failures.json": json.dumps({"snr0": SNR0_ERROR}).encode()}
    _, submission, _ = _container_world(protocol=protocol, members=members)
    assert _score_held(submission) == SubmissionStatus.FAILED
    submission.refresh_from_db()
    assert submission.failure_cause == FailureCause.SUBMISSION
    assert submission.error_message == (
        "Your model failed under 3 of the 4 conditions of this phase, which scores a submission only when every "
        "condition succeeds. snr10: prediction file, line 2, column 'discrete': 'elated' is not a label of this "
        "track; use one of neutral, angry, happy, sad, worried, surprise. snr0: The model did not finish within "
        "60 s under this condition. Your model wrote no predictions for condition blur4.")
    assert not SubmissionScore.objects.filter(submission=submission).exists()


@pytest.mark.django_db
def test_an_unreadable_archive_is_the_platforms_fault():
    _, submission, _ = _container_world()
    with submission.file.open("wb") as out:  # what the worker stored is damaged
        out.write(b"not a zip")
    assert _score_held(submission) == SubmissionStatus.FAILED
    submission.refresh_from_db()
    assert (submission.failure_cause, submission.error_message) == (FailureCause.PLATFORM, UNREADABLE_RUN_MESSAGE)


# --- a prediction file with a condition map --------------------------------------------------------------------

MAP_PROTOCOL = {"conditions": [{"name": "clean", "condition": "clean"}, {"name": "snr0", "condition":
                                                                          "noise:white@0db"}], "seed": 1}
CONDITION_MAP = b"name,condition\ns1,clean\ns2,clean\ns3,snr0\ns4,clean\ns5,snr0\n"


@pytest.mark.django_db
def test_a_prediction_file_is_scored_per_condition_of_the_condition_map():
    phase = PhaseFactory(robustness_protocol=MAP_PROTOCOL,
                         condition_map=ContentFile(CONDITION_MAP, name="conditions.csv"))
    phase.full_clean()
    submission = SubmissionFactory(phase=phase)  # s1 happy, s2 happy, s3 angry, s4 neutral, s5 sad
    assert _score_held(submission) == SubmissionStatus.SCORED
    scorer = get_scorer("mer.discrete")
    subsets = {("public", "clean"): (b"s1,happy\ns2,sad\n", b"s1,happy\ns2,happy\n"),
               ("public", "snr0"): (b"s3,angry\n", b"s3,angry\n"),
               ("private", "clean"): (b"s4,neutral\n", b"s4,neutral\n"),
               ("private", "snr0"): (b"s5,worried\n", b"s5,sad\n")}
    scores = {s.split: s for s in SubmissionScore.objects.filter(submission=submission)}
    for split in ("public", "private"):
        expected = []
        for name, spec, family, severity in (("clean", "clean", "clean", 0.0),
                                             ("snr0", "noise:white@0db", "noise:white", 1.0)):
            gold, pred = subsets[(split, name)]
            result = scorer.score(gold=b"name,discrete\n" + gold, pred=b"name,discrete\n" + pred).to_json()
            expected.append({"name": name, "condition": spec, "family": family, "severity": severity,
                             "score": result["score"], "metrics": result["metrics"]})
        assert scores[split].conditions == expected
        assert scores[split].score == (expected[0]["score"] + expected[1]["score"]) / 2
    # public: clean waf 1/3 (s2 sad predicted happy), snr0 1.0; private: clean 1.0, snr0 0.0
    assert scores["public"].score == pytest.approx(2 / 3, abs=1e-15)
    assert scores["private"].score == 0.5
    assert LeaderboardEntry.objects.get(phase=phase, split="public").conditions == {
        "clean": scores["public"].conditions[0]["score"], "snr0": 1.0}


@pytest.mark.django_db
def test_a_revealed_phase_shows_the_private_conditions_to_the_team(client):
    phase, submission, users = _container_world()
    _score_held(submission)
    phase.private_revealed_at = timezone.now()
    phase.save(update_fields=["private_revealed_at"])
    client.force_login(users["member"])
    detail = client.get(f"/api/v1/submissions/{submission.pk}").json()
    assert detail["scores"]["private"]["conditions"] == _expected_conditions("private")
    csv = client.get(f"/api/v1/phases/{phase.pk}/leaderboard.csv?split=private").content.decode()
    assert csv.splitlines()[0] == CSV_HEADER.replace("rank,", "rank,public_rank,")
