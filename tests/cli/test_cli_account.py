"""``arena login``, ``whoami`` and ``challenges`` against a live server; credentials and exit codes."""

import json
import stat
import subprocess
import sys

import pytest

from arena.tokens.models import ApiToken
from tests.cli.conftest import REPO

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_client_imports_neither_django_nor_drf():
    code = ("import sys, arena.cli.main; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework', 'celery'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "platform")})
    assert result.stdout.strip() == "[]"


def test_login_checks_the_token_and_stores_it_for_the_owner_only(cli, world):
    result = cli.run("login", "--server", world["server"] + "/", "--token", world["token"])
    assert result.returncode == 0, result.stderr
    prefix = world["token"].split("_")[1]
    assert result.stdout.splitlines() == [
        f"Signed in to {world['server']} as ada with token 'laptop' (arena_{prefix}_…, expires never).",
        f"Saved to {cli.credentials} (readable by you only).",
    ]
    assert stat.S_IMODE(cli.credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.credentials.parent.stat().st_mode) == 0o700
    assert json.loads(cli.credentials.read_text()) == {"server": world["server"], "token": world["token"]}
    assert ApiToken.objects.get(name="laptop").last_used_at is not None


def test_login_reads_the_token_from_stdin_when_not_given(cli, world):
    result = cli.run("login", "--server", world["server"], "--json", input=world["token"] + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"server": world["server"], "username": "ada", "token_name": "laptop",
                                         "token_expires_at": None, "credentials_file": str(cli.credentials)}
    assert result.stderr == ""  # no prompt when the token comes from a pipe


@pytest.mark.parametrize("token,code", [("arena_00000000_wrong", "token_unknown"), ("", "usage")])
def test_a_refused_or_missing_token_is_not_stored(cli, world, token, code):
    result = cli.run("login", "--server", world["server"], "--json", input=token + "\n")
    assert result.returncode == (3 if code == "token_unknown" else 2)
    assert json.loads(result.stdout)["error"]["code"] == code
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("arena: ")
    assert not cli.credentials.exists()


def test_a_revoked_token_says_how_to_fix_it(signed_in, world, settings):
    ApiToken.objects.filter(name="laptop").update(revoked_at="2026-01-01T00:00:00Z")
    result = signed_in.run("whoami")
    assert result.returncode == 3
    assert result.stderr == (
        f"arena: This API token ('laptop') was revoked on 2026-01-01; create a new token at "
        f"{settings.SITE_URL}/accounts/tokens/ and run `arena login` again.\n")


def test_whoami_lists_teams(signed_in):
    result = signed_in.run("whoami")
    assert result.returncode == 0, result.stderr
    assert "  mer: team 'Owls' (owner; participation approved)" in result.stdout.splitlines()
    body = json.loads(signed_in.run("whoami", "--json").stdout)
    assert (body["username"], body["auth"]["method"], [t["team"] for t in body["teams"]]) == (
        "ada", "token", ["Owls"])


def test_the_environment_overrides_the_stored_credentials(signed_in, world):
    as_rival = signed_in.run("--json", "whoami", env={"ARENA_TOKEN": world["rival_token"]})
    assert json.loads(as_rival.stdout)["username"] == "rival"
    # A stored token is only sent to the server it was stored for.
    elsewhere = signed_in.run("whoami", env={"ARENA_SERVER": world["server"].replace("localhost", "127.0.0.1")})
    assert elsewhere.returncode == 3
    assert elsewhere.stderr.startswith("arena: Not signed in to http://127.0.0.1:")


def test_challenges_lists_phase_ids_and_needs_no_token(cli, world):
    result = cli.run("challenges", env={"ARENA_SERVER": world["server"]})
    assert result.returncode == 0, result.stderr
    phase = world["phase"]
    assert result.stdout.splitlines()[:3] == [
        f"mer  MER  ({phase.track.challenge.starts_at:%Y-%m-%d %H:%M} UTC – "
        f"{phase.track.challenge.ends_at:%Y-%m-%d %H:%M} UTC)",
        "  track semi: MER-SEMI  [scorer mer.discrete]",
        f"    phase {phase.pk:<6} Validation (validation), open until {phase.closes_at:%Y-%m-%d %H:%M} UTC",
    ]
    listed = json.loads(cli.run("challenges", "--json", env={"ARENA_SERVER": world["server"]}).stdout)
    assert [(c["slug"], [[p["id"] for p in t["phases"]] for t in c["tracks"]]) for c in listed] == [
        ("mer", [[phase.pk]])]


def test_network_failures_exit_7_and_usage_errors_exit_2(cli):
    down = cli.run("challenges", "--json", env={"ARENA_SERVER": "http://127.0.0.1:9"})
    assert down.returncode == 7
    assert json.loads(down.stdout)["error"]["code"] == "network_error"
    assert down.stderr.startswith("arena: Cannot reach http://127.0.0.1:9 (")
    assert cli.run("submit", "file.csv").returncode == 2  # --phase is required
    assert cli.run("status", "abc").returncode == 2
    assert cli.run("frobnicate").returncode == 2
    assert cli.run().returncode == 2


def test_commands_that_need_a_token_say_so(cli, world):
    result = cli.run("status", "1", env={"ARENA_SERVER": world["server"]})
    assert result.returncode == 3
    assert result.stderr == f"arena: Not signed in to {world['server']}: run `arena login` (or set ARENA_TOKEN).\n"
