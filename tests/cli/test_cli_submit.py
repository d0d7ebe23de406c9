"""``arena submit`` (progress, idempotency, --wait) and ``arena status`` against a live server."""

import json
import time

import pytest

from arena.submissions.models import Submission, SubmissionStatus
from arena.submissions.services import lifecycle
from arena.submissions.services.scoring import submission_score
from tests.cli.conftest import GOOD
from tests.platform.worker import broker_for_tests, celery_worker

#: One mistake in the public part (s2): accuracy 2/3; weighted F1 (1/1 angry, 2/3 happy, 0 sad) / 3 = 5/9.
ONE_WRONG = b"name,discrete\ns1,happy\ns2,happy\ns3,angry\ns4,neutral\ns5,worried\n"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def predictions(cli):
    path = cli.home / "my predictions.csv"
    path.write_bytes(ONE_WRONG)
    return path


def _mine():
    return Submission.objects.exclude(team__name="Rivals")


def test_submit_uploads_with_a_progress_bar_and_prints_the_submission(signed_in, world, predictions):
    result = signed_in.run("submit", "--phase", str(world["phase"].pk), str(predictions), "--method", "wav2vec + MLP",
                           "--description", "late fusion", "--code-url", "https://example.org/code",
                           env={"ARENA_PROGRESS": "1"})
    assert result.returncode == 0, result.stderr
    submission = _mine().get()
    assert (submission.method_name, submission.method_description, submission.code_url, submission.file_name,
            submission.file.read(), submission.submitted_by) == (
        "wav2vec + MLP", "late fusion", "https://example.org/code", "my predictions.csv", ONE_WRONG, world["member"])
    assert submission.idempotency_key.startswith("arena-cli-")
    assert "uploading my predictions.csv [##############################] 100%" in result.stderr
    assert f"submitted: submission {submission.pk} to phase {world['phase'].pk} (queued)" in result.stderr
    assert result.stdout.splitlines()[:2] == [f"Submission {submission.pk}  phase {world['phase'].pk}  team Owls",
                                              "  method:    wav2vec + MLP"]


def test_submit_json_and_the_method_name_defaults_to_the_file_name(signed_in, world, predictions):
    result = signed_in.run("submit", "--json", "--phase", str(world["phase"].pk), str(predictions))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["id"], body["status"], body["method_name"], body["team"]) == (
        _mine().get().pk, "queued", "my predictions", "Owls")
    assert result.stderr == ""


def test_the_same_idempotency_key_gives_the_same_submission(signed_in, world, predictions):
    args = ("submit", "--json", "--phase", str(world["phase"].pk), str(predictions), "--idempotency-key", "run-7")
    first, again = signed_in.run(*args), signed_in.run(*args)
    assert (first.returncode, again.returncode) == (0, 0)
    assert json.loads(first.stdout)["id"] == json.loads(again.stdout)["id"]
    assert _mine().count() == 1
    assert again.stderr == (f"the server already had this upload (Idempotency-Key run-7): submission "
                            f"{json.loads(first.stdout)['id']}\n")


@pytest.mark.parametrize("content,phase,exit_code,message", [
    (b"name,discrete\ns1,happy\ns2,elated\n", None, 5, "line 3"),
    (GOOD, 999_999, 4, "arena: Not found, or not visible to you: check the id"),
])
def test_refused_uploads_exit_with_the_server_s_message(signed_in, world, content, phase, exit_code, message):
    path = signed_in.home / "p.csv"
    path.write_bytes(content)
    result = signed_in.run("submit", "--phase", str(phase or world["phase"].pk), str(path))
    assert result.returncode == exit_code
    assert result.stderr.startswith("arena: ") and len(result.stderr.splitlines()) == 1
    assert message in result.stderr
    assert not _mine().exists()


def test_a_missing_file_is_a_usage_error(signed_in, world):
    result = signed_in.run("submit", "--phase", str(world["phase"].pk), "nope.csv")
    assert (result.returncode, result.stderr) == (2, "arena: No such file: nope.csv\n")


def _wait_for_submission(process, timeout=30) -> Submission:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission = _mine().first()
        if submission is not None:
            return submission
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    raise AssertionError("the upload never arrived")


def test_wait_follows_the_status_until_scored(signed_in, world, predictions):
    process = signed_in.popen("submit", "--phase", str(world["phase"].pk), str(predictions), "--wait", "--json")
    submission = _wait_for_submission(process)
    time.sleep(1.5)  # the client sees "queued" first
    submission.refresh_from_db()
    assert submission_score(submission_id=submission.pk, token=submission.claim_token) == "scored"
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    body = json.loads(out)
    assert (body["id"], body["status"]) == (submission.pk, "scored")
    assert body["scores"]["public"]["score"] == pytest.approx(5 / 9)
    assert body["scores"]["public"]["metrics"] == pytest.approx({"waf": 5 / 9, "accuracy": 2 / 3})
    assert err.splitlines()[0] == "status: queued" and err.splitlines()[-1].startswith("status: scored (")


def test_wait_exits_6_when_the_submission_fails(signed_in, world, predictions):
    process = signed_in.popen("submit", "--phase", str(world["phase"].pk), str(predictions), "--wait")
    submission = _wait_for_submission(process)
    lifecycle.submission_mark_failed(submission_id=submission.pk, message="The reference changed; submit again.")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 6
    assert err.splitlines()[-1] == (f"arena: Submission {submission.pk} failed: The reference changed; "
                                    "submit again.")
    assert "  status:    failed" in out


def test_status_of_mine_and_of_others(signed_in, world):
    mine = Submission.objects.create(phase=world["phase"], team=world["team"], method_name="Mine",
                                     status=SubmissionStatus.SCORING)
    result = signed_in.run("status", str(mine.pk))
    assert result.returncode == 0, result.stderr
    assert "  status:    scoring" in result.stdout.splitlines()
    assert json.loads(signed_in.run("status", str(mine.pk), "--json").stdout)["status"] == "scoring"
    theirs = signed_in.run("status", str(world["scored"].pk), "--json")
    assert theirs.returncode == 4
    assert json.loads(theirs.stdout) == {"error": {"code": "not_found", "message": "No such submission.",
                                                   "details": {}}, "exit_code": 4, "status": 404}


@pytest.mark.postgres
@pytest.mark.broker
def test_submit_wait_with_a_real_worker(signed_in, world, predictions, tmp_path):
    log = tmp_path / "worker.log"
    with celery_worker(broker_for_tests(), log_path=log):
        result = signed_in.run("submit", "--phase", str(world["phase"].pk), str(predictions), "--wait",
                               "--timeout", "90", "--method", "Worker run")
    assert result.returncode == 0, result.stderr + log.read_text()[-2000:]
    lines = result.stdout.splitlines()
    assert lines[4].startswith("  status:    scored")
    assert lines[5] == "  public:    0.5556  (waf=0.5556, accuracy=0.6667)"
    assert _mine().get().status == SubmissionStatus.SCORED


def test_submit_answers_the_fact_sheet_and_names_a_missing_answer(signed_in, world, predictions):
    from arena.factsheets.models import Question, QuestionKind

    phase = world["phase"]
    Question.objects.create(phase=phase, key="external_data", text="Uses external data?", kind=QuestionKind.YES_NO)
    Question.objects.create(phase=phase, key="paper", text="Paper", kind=QuestionKind.URL, required=False)
    missing = signed_in.run("submit", "--phase", str(phase.pk), str(predictions))
    assert (missing.returncode, missing.stderr) == (
        5, "arena: Answer the fact-sheet question 'external_data' (Uses external data?); it is required.\n")
    assert not _mine().exists()
    malformed = signed_in.run("submit", "--phase", str(phase.pk), str(predictions), "--answer", "external_data")
    assert malformed.returncode == 2
    assert "expected KEY=VALUE (e.g. external_data=no), got 'external_data'" in malformed.stderr
    result = signed_in.run("submit", "--json", "--phase", str(phase.pk), str(predictions),
                           "--answer", "external_data=No", "--answer", "paper=https://example.org/p=1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answers"] == {"external_data": "no", "paper": "https://example.org/p=1"}
