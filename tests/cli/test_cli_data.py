"""``arena leaderboard`` (table, JSON, CSV) and ``arena download`` (progress, resume, sha256 check)."""

import hashlib
import json

import pytest

from arena.challenges.services import phase_reveal_results
from arena.datasets.models import DownloadGrant
from arena.participation.models import LicenceAcceptance
from tests.cli.conftest import DATA

pytestmark = pytest.mark.django_db(transaction=True)


def test_leaderboard_table(signed_in, world):
    result = signed_in.run("leaderboard", str(world["phase"].pk))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Phase {world['phase'].pk}, public leaderboard: 1 row(s), ranked by waf "
                               "(higher is better); refreshed ")
    assert lines[1:] == ["rank  team    method       waf     entries",
                         "----  ------  -----------  ------  -------",
                         "1     Rivals  Rival model  0.7500  1"]


def test_leaderboard_csv_is_the_site_s_export(signed_in, world, client):
    result = signed_in.run("leaderboard", str(world["phase"].pk), "--csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == client.get(f"/api/v1/phases/{world['phase'].pk}/leaderboard.csv").content.decode()
    assert result.stdout.splitlines()[1].startswith("1,Rivals,Rival model,,0.75,")
    both = signed_in.run("leaderboard", str(world["phase"].pk), "--csv", "--json")
    assert (both.returncode, both.stderr) == (2, "arena: Choose one of --csv and --json.\n")


def test_leaderboard_json_and_the_private_split(signed_in, world):
    board = json.loads(signed_in.run("leaderboard", str(world["phase"].pk), "--json").stdout)
    assert (board["count"], board["split"], [e["team_name"] for e in board["entries"]]) == (1, "public", ["Rivals"])
    hidden = signed_in.run("leaderboard", str(world["phase"].pk), "--split", "private")
    assert hidden.returncode == 5
    assert hidden.stderr == ("arena: The private leaderboard of this phase is hidden until the organisers reveal "
                             "the results.\n")
    organiser = world["phase"].track.challenge.organisers.create(username="org", email="org@example.org")
    phase_reveal_results(actor=organiser, phase=world["phase"])
    assert signed_in.run("leaderboard", str(world["phase"].pk), "--split", "private").returncode == 0
    assert signed_in.run("leaderboard", "999999").returncode == 4


def test_download_checks_the_sha256_and_names_the_file(signed_in, world):
    out = signed_in.home / "data"
    result = signed_in.run("download", str(world["file"].pk), "--out", str(out), env={"ARENA_PROGRESS": "1"})
    assert result.returncode == 0, result.stderr
    target = out / "train_labels.csv"
    assert target.read_bytes() == DATA
    assert result.stdout == f"Saved {target} ({len(DATA) / 1024:.1f} KB, sha256 verified).\n"
    assert f"downloading file {world['file'].pk} [##############################] 100%" in result.stderr
    assert list(out.iterdir()) == [target]
    assert DownloadGrant.objects.get().channel == "api"


def test_download_resumes_a_partial_file_with_a_range_request(signed_in, world):
    out = signed_in.home / "data"
    out.mkdir()
    part = out / f"arena-{world['file'].pk}-{world['file'].sha256[:12]}.part"
    part.write_bytes(DATA[:300_000])
    result = signed_in.run("download", str(world["file"].pk), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "file_id": world["file"].pk, "path": str(out / "train_labels.csv"), "name": "train_labels.csv",
        "size": len(DATA), "sha256": hashlib.sha256(DATA).hexdigest(), "resumed_from": 300_000,
    }
    assert (out / "train_labels.csv").read_bytes() == DATA and not part.exists()


def test_download_refuses_and_deletes_a_file_whose_sha256_does_not_match(signed_in, world):
    out = signed_in.home / "data"
    out.mkdir()
    part = out / f"arena-{world['file'].pk}-{world['file'].sha256[:12]}.part"
    # A corrupt start: only a resumed download (which keeps these bytes) can end up with the wrong digest.
    part.write_bytes(b"\0" * 1000)
    result = signed_in.run("download", str(world["file"].pk), "--out", str(out), "--json")
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "checksum_mismatch"
    assert error["details"] == {"expected": world["file"].sha256,
                                "actual": hashlib.sha256(b"\0" * 1000 + DATA[1000:]).hexdigest()}
    assert result.stderr.startswith(f"arena: sha256 mismatch for file {world['file'].pk}: expected ")
    assert list(out.iterdir()) == []
    again = signed_in.run("download", str(world["file"].pk), "--out", str(out))
    assert again.returncode == 0 and (out / "train_labels.csv").read_bytes() == DATA


def test_download_refusals(signed_in, world):
    LicenceAcceptance.objects.all().delete()
    refused = signed_in.run("download", str(world["file"].pk))
    assert (refused.returncode, refused.stderr) == (
        5, "arena: Accept the licence for your team before downloading.\n")
    missing = signed_in.run("download", "999999")
    assert (missing.returncode, missing.stderr) == (4, "arena: No such dataset file.\n")
    assert not list(signed_in.home.glob("*.part"))
