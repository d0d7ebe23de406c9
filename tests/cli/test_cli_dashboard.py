"""``arena me`` (the dashboard: next step, limits, recent submissions) and ``arena datasets`` (file ids)."""

import json
from datetime import timedelta

import pytest

from arena.cli.progress import human_size
from arena.participation.models import ParticipationStatus
from arena.submissions.models import SubmissionStatus
from tests.cli.conftest import DATA
from tests.platform.factories import SubmissionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_me_prints_the_next_step_the_limits_and_the_recent_submissions(signed_in, world):
    phase = world["phase"]
    sub = SubmissionFactory(phase=phase, team=world["team"], method_name="wav2vec", status=SubmissionStatus.QUEUED)
    result = signed_in.run("me")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    closes = f"{phase.closes_at:%Y-%m-%d %H:%M} UTC"
    tomorrow = sub.created_at.date() + timedelta(days=1)
    assert lines[:5] == [
        f"ada on {world['server']}",
        "",
        "mer: team 'Owls'",
        "  next step: Ready to submit.",
        f"  phase {phase.pk} semi/Validation (closes {closes}): Ready to submit.",
    ]
    assert lines[5] == (f"    today: 4 of 5 left (resets {tomorrow:%Y-%m-%d} 00:00 UTC); in total: 99 of 100 left; "
                        "in flight: 1 of 3 being scored")
    assert lines[6:8] == ["", "Recent submissions (1):"]
    assert lines[8].split() == ["id", "challenge", "phase", "team", "method", "status", "submitted"]
    assert lines[10].split()[:6] == [str(sub.pk), "mer", str(phase.pk), "Owls", "wav2vec", "queued"]
    assert "Rival" not in result.stdout


def test_me_json_is_the_api_s_answer(signed_in, world, client):
    body = json.loads(signed_in.run("me", "--json").stdout)
    assert body["server"] == world["server"]
    api = client.get("/api/v1/me", headers={"Authorization": f"Token {world['token']}"}).json()
    assert body["teams"] == api["teams"] and body["submissions"] == api["submissions"] == []
    assert body["teams"][0]["next_step"]["state"] == "ready"


def test_me_names_the_step_and_where_to_take_it(signed_in, world):
    participation = world["team"].participation
    participation.status = ParticipationStatus.PENDING
    participation.save()
    result = signed_in.run("me")
    assert result.returncode == 0, result.stderr
    assert ("  next step: Awaiting the organisers' approval. (Your team is waiting for the organisers' approval; "
            "you will get an e-mail.)") in result.stdout.splitlines()
    assert "Ready to submit" not in result.stdout


def test_me_needs_a_token(cli, world):
    result = cli.run("me", env={"ARENA_SERVER": world["server"]})
    assert result.returncode == 3 and "arena login" in result.stderr


def test_datasets_lists_files_with_ids_sizes_and_sha256(signed_in, world):
    data_file = world["file"]
    result = signed_in.run("datasets", "mer")
    assert result.returncode == 0, result.stderr
    size = human_size(len(DATA))
    id_width = max(2, len(str(data_file.pk)))
    assert result.stdout.splitlines() == [
        "train  Train",
        f"  {'id'.ljust(id_width)}  name              kind   size{' ' * (len(size) - 4)}  sha256",
        f"  {'-' * id_width}  ----------------  -----  {'-' * len(size)}  {'-' * 64}",
        f"  {str(data_file.pk).ljust(id_width)}  train labels.csv  train  {size}  {data_file.sha256}",
        "",
        "Download one with: arena download <id>",
    ]


def test_datasets_json_gives_the_id_arena_download_takes(signed_in, world):
    (dataset,) = json.loads(signed_in.run("datasets", "mer", "--json").stdout)
    (listed,) = dataset["files"]
    assert (listed["id"], listed["size"], listed["sha256"]) == (world["file"].pk, len(DATA), world["file"].sha256)
    out = signed_in.home / "data"
    fetched = signed_in.run("download", str(listed["id"]), "--out", str(out))
    assert fetched.returncode == 0, fetched.stderr
    assert (out / "train_labels.csv").read_bytes() == DATA


def test_datasets_of_an_unknown_challenge(signed_in, world):
    result = signed_in.run("datasets", "nope")
    assert (result.returncode, result.stderr) == (4, "arena: No challenge 'nope'.\n")
