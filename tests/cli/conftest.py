"""Running the ``arena`` client as a subprocess against a live test server.

Each test gets its own HOME (so its own credentials file), an environment without any ARENA_*
variable of the caller, and a Celery app that sends to an in-memory broker unless a test starts a
real worker: no message of a test ever reaches a shared queue.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from arena.datasets.models import Dataset, DatasetFile
from arena.leaderboards.services import leaderboard_refresh
from arena.submissions.models import SubmissionScore, SubmissionStatus
from arena.tokens.services import api_token_create
from tests.platform.factories import PhaseFactory, SubmissionFactory, UserFactory, ready_team
from tests.platform.worker import switch_broker

REPO = Path(__file__).resolve().parents[2]
GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"
#: A dataset file large enough to be sent in several chunks.
DATA = b"name,valence,arousal\n" + b"".join(b"clip%06d,0.%03d,0.%03d\n" % (i, i % 997, (i * 7) % 991)
                                         for i in range(40_000))


@dataclass
class Cli:
    """``arena`` in a subprocess with its own HOME; every run is checked never to print a traceback."""

    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**self.env, **(extra or {})}

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "arena.cli.main", *args]

    def run(self, *args: str, input: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(self.argv(*args), input=input, capture_output=True, text=True, timeout=timeout,
                                env=self.environment(env), cwd=self.home)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.environment(env), cwd=self.home)

    @property
    def credentials(self) -> Path:
        return self.home / ".config" / "affectarena" / "credentials.json"


@pytest.fixture
def memory_broker():
    """Tasks enqueued by the live server go to an in-memory broker and are never run."""
    from arena.config.celery import app

    old_url, old_env = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    switch_broker(app, "memory://")
    yield
    switch_broker(app, old_url)
    if old_env is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = old_env


@pytest.fixture
def cli(tmp_path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ARENA_", "DJANGO_", "CELERY_")) and key not in ("XDG_CONFIG_HOME", "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONPATH=str(REPO / "platform"), ARENA_RETRIES="0", ARENA_PROGRESS="0")
    return Cli(home=home, env=env)


@pytest.fixture
def world(live_server, memory_broker):
    """A published challenge with an open phase, an approved team with a token, a scored entry, a data file."""
    member, rival = UserFactory(username="ada"), UserFactory(username="rival")
    phase = PhaseFactory(track__challenge__slug="mer", track__challenge__title="MER", track__slug="semi",
                         track__title="MER-SEMI", slug="val", title="Validation", track__max_in_flight=3)
    challenge = phase.track.challenge
    team = ready_team(challenge=challenge, members=[member], name="Owls")
    rivals = ready_team(challenge=challenge, members=[rival], name="Rivals")
    scored = SubmissionFactory(phase=phase, team=rivals, method_name="Rival model", status=SubmissionStatus.SCORED)
    SubmissionScore.objects.create(submission=scored, split="public", score=0.75, metrics={"waf": 0.75,
                                                                                          "accuracy": 0.8})
    leaderboard_refresh(phase_id=phase.pk)
    dataset = Dataset.objects.create(challenge=challenge, slug="train", title="Train", description="Labels")
    data_file = DatasetFile.objects.create(dataset=dataset, name="train labels.csv", kind="train", size=len(DATA),
                                           file=ContentFile(DATA, name="train labels.csv"),
                                           sha256=hashlib.sha256(DATA).hexdigest())
    return {
        "server": live_server.url, "member": member, "team": team, "phase": phase, "scored": scored,
        "file": data_file, "token": api_token_create(user=member, name="laptop").raw,
        "rival_token": api_token_create(user=rival, name="rival").raw,
    }


@pytest.fixture
def signed_in(cli, world) -> Cli:
    result = cli.run("login", "--server", world["server"], "--token", world["token"])
    assert result.returncode == 0, result.stderr
    return cli
