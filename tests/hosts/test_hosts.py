"""The platform as separate hosts with no shared disk, and a scoring host lost during a burst.

Five network namespaces on this machine stand for five hosts (see ``deployment``): services (PostgreSQL,
Redis, S3), web (gunicorn, beat), two scoring workers and a sandbox worker. Uploads go to the S3 bucket
only and the workers read references and submissions from it. During a burst of uploads every process of
one scoring host is SIGKILLed while it holds work; every submission must still be scored exactly once,
the work the lost host held within the bound its lease, the reconciler and the outbox promise, and every
board must equal the board ranked again from scratch.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from tests.conftest import require
from tests.faults.site import Client, Upload
from tests.faults.test_faults import finish
from tests.hosts.deployment import BUCKET
from tests.hosts.world import model_archive

pytestmark = pytest.mark.hosts

TEAMS = 10
UPLOADS = 80
#: Two models, run on the sandbox host from the archives it reads from the bucket.
MODEL_LABELS = ("neutral", "happy")
#: Short pipeline periods, so that the loss of a host is repaired within seconds (defaults: 60, 30, 10, 60 s).
LEASE, RECONCILE, DISPATCH, REDISPATCH = 15, 5, 3, 10
SETTINGS = {"ARENA_LEASE_SECONDS": str(LEASE), "ARENA_RECONCILE_SECONDS": str(RECONCILE),
            "ARENA_DISPATCH_SECONDS": str(DISPATCH), "ARENA_REDISPATCH_SECONDS": str(REDISPATCH)}
#: Work the lost host held is back in a queue within one lease and one reconciler period (claimed work) or
#: one re-send interval and one dispatcher period (messages it had reserved); then it waits its turn behind
#: the rest of the burst on the surviving host. The allowance covers that wait on a busy 2-core machine.
QUEUE_ALLOWANCE = 120
RECOVERY_BOUND = max(LEASE + RECONCILE, REDISPATCH + DISPATCH) + RECONCILE + QUEUE_ALLOWANCE

#: Run on a host: which storage its settings give, and for a worker host what ``manage.py worker_ready`` says.
PROBE = """
import io, json, sys
import django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
default = storages["default"]
answer = {"storage": type(default).__module__ + "." + type(default).__name__,
          "bucket": getattr(default, "bucket_name", None), "endpoint": getattr(default, "endpoint_url", None)}
if sys.argv[1:]:
    out = io.StringIO()
    try:
        call_command("worker_ready", *sys.argv[2:], stdout=out)
    except CommandError:
        pass
    answer["ready"] = out.getvalue()
print(json.dumps(answer))
"""
SCORE_TASK = re.compile(r"^\[([\d-]+ [\d:]+,\d+): .*score_submission\[([0-9a-f-]+)\] (received|succeeded|failed|retry)",
                        re.MULTILINE)


def held_for(log_text: str) -> list[float]:
    """How long each scoring message a worker received and has not finished has been in its hands, in
    seconds, from its log (its own clock: this machine's)."""
    from datetime import datetime

    received, done = {}, set()
    for stamp, task_id, what in SCORE_TASK.findall(log_text):
        if what == "received":
            received[task_id] = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
        else:
            done.add(task_id)
    now = datetime.now()
    return [(now - at).total_seconds() for task_id, at in received.items() if task_id not in done]


def upload_model(client: Client, *, phase: int, team: int, archive: bytes, name: str) -> Upload:
    """One model archive through the API, retried as the client retries prediction files."""
    upload = Upload(team=team)
    url = f"{client.site.url}/api/v1/phases/{phase}/container-submissions"
    headers = {"Authorization": f"Token {client.site.world['tokens'][team]}", "Idempotency-Key": upload.key}
    deadline = time.monotonic() + client.retry_for
    while True:
        try:
            response = requests.post(url, headers=headers, files={"image_archive": (f"{name}.tar.gz", archive)},
                                     data={"method_name": name}, timeout=300)
            upload.statuses.append(response.status_code)
            if response.status_code in (200, 201):
                upload.submission_id = response.json()["id"]
                break
            retry, wait = response.status_code in (502, 503, 504), float(response.headers.get("Retry-After", "1"))
        except requests.ConnectionError:
            upload.statuses.append(0)
            retry, wait = True, 1.0
        if not retry or time.monotonic() > deadline:
            break
        time.sleep(wait)
    with client._lock:
        client.uploads.append(upload)
    return upload


def rows(database_url: str) -> dict[int, tuple]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return {pk: rest for pk, *rest in conn.execute(
            "SELECT id, status, attempts, dispatch_count, extract(epoch FROM finished_at)::float8, file "
            "FROM submissions_submission").fetchall()}


@pytest.fixture
def model_images():
    """The tag of this run's model images; the images the sandbox host loaded from them are removed after."""
    repo = f"team/hosts-model-{os.getpid()}"
    yield repo
    from sandboxes import engine_available
    from sandboxes.engine import docker_client

    if engine_available():
        engine = docker_client()
        for image in engine.images.list():
            if any(tag.startswith(repo) for tag in image.tags):
                engine.images.remove(image.id, force=True)


def test_a_scoring_host_killed_during_a_burst_on_hosts_with_no_shared_disk(deployment, model_images):
    from sandboxes import engine_available, image_present

    require(engine_available() and image_present("arena/sandbox-base:latest"),
            "the multi-host test runs models: it needs a Docker engine and arena/sandbox-base "
            "(infra/ci/start-docker.sh, infra/sandbox-images/build.sh)")
    site, network = deployment, deployment.network
    set_up = time.monotonic()
    builder = ThreadPoolExecutor(1)  # two small models, built on the machine's engine meanwhile
    archives = builder.submit(lambda: [model_archive(label, model_images) for label in MODEL_LABELS])
    site.start_services()
    site.prepare(teams=TEAMS)  # migrations and the challenge, from the web host; references go to the bucket
    models_phase = json.loads(site.run("-m", "tests.hosts.world"))["phase"]
    site.start_web()
    site.start_beat()
    site.start_worker("worker-score1", host="score1")
    site.start_worker("worker-score2", host="score2")
    site.start_worker("worker-sandbox", host="sandbox", queues="sandbox", concurrency=1)

    # Each host stores in the bucket, and reaches the database and the broker over the network.
    def probe(host: str) -> dict:
        worker = [] if host == "web" else ["worker", *(["--sandbox"] if host == "sandbox" else [])]
        return json.loads(site.run_on(host, "-c", PROBE, *worker, timeout=120))

    hosts = ["web", "score1", "score2", "sandbox"]
    with ThreadPoolExecutor(len(hosts)) as pool:
        probes = dict(zip(hosts, pool.map(probe, hosts), strict=True))
    for host, answer in probes.items():
        assert answer["storage"] == "storages.backends.s3.S3Storage", (host, answer)
        assert (answer["bucket"], answer["endpoint"]) == (BUCKET, site.s3_endpoint), (host, answer)
        assert host == "web" or "FAIL" not in answer["ready"], (host, answer)
    assert {"ok database", "ok broker"} <= set(probes["score1"]["ready"].splitlines())
    assert "ok docker" in probes["sandbox"]["ready"]
    references = {key for key in site.bucket_keys() if key.endswith((".csv", ".tar.gz"))}
    assert len(references) == 5, references  # both phases' references, and the models' hidden inputs
    archives = archives.result(timeout=300)
    builder.shutdown()
    set_up = time.monotonic() - set_up

    # A burst; once the first host has held a scoring message long enough to have claimed its submission
    # (a claim is its first step; scoring takes over half a second here), the whole host goes.
    client = Client(site, retry_for=180)
    started = time.monotonic()
    burst = threading.Thread(target=client.burst, args=(UPLOADS,), kwargs={"teams": TEAMS, "threads": 8})
    burst.start()
    modelling = ThreadPoolExecutor(len(archives))
    models = [modelling.submit(upload_model, client, phase=models_phase, team=i, archive=archive, name=f"model-{i}")
              for i, archive in enumerate(archives)]
    victim_log = site.folder / "worker-score1.log"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        statuses = site.statuses(client.accepted_ids()) if client.accepted_ids() else {}
        if statuses.get("scored", 0) >= 5 and statuses.get("scoring", 0) >= 1 \
                and any(age >= 0.3 for age in held_for(victim_log.read_text(errors="replace"))):
            break
        assert burst.is_alive(), f"the burst ended before the first scoring host held work\n{site.log_tail()}"
        time.sleep(0.1)
    else:
        raise AssertionError(f"the first scoring host never held work\n{site.log_tail()}")
    killed_at, killed = time.time(), time.monotonic()
    pids = site.kill_host("score1")
    assert pids and network.pids("score1") == []
    assert burst.is_alive(), "the burst ended before the host was lost"
    burst.join(timeout=300)
    assert not burst.is_alive()
    models = [m.result(timeout=300).submission_id for m in models]
    modelling.shutdown()

    # Every upload scored exactly once, nobody saw a 500, boards equal a re-rank from scratch.
    finish(site, client, timeout=RECOVERY_BOUND + 120)
    all_scored = time.monotonic() - killed
    state = rows(site.database_url)
    taken_back = {pk for pk, (_, attempts, dispatches, _, _) in state.items() if attempts > 1 or dispatches > 1}
    reclaimed = {pk for pk, (_, attempts, *_rest) in state.items() if attempts > 1}
    assert reclaimed, "no submission the lost host had claimed was taken back by the reconciler"
    assert all(attempts <= 2 for (_, attempts, *_rest) in state.values())
    recovery = max(state[pk][3] for pk in taken_back) - killed_at
    assert recovery <= RECOVERY_BOUND, f"the lost host's work was scored {recovery:.1f} s after the kill"

    # Nothing went to the hosts' disks: every stored file is an object in the bucket, no host has a media
    # folder, and no host keeps a prediction or reference but the lost host's scratch copies of its work.
    keys = site.bucket_keys()
    assert all(file and file in keys for (_, _, _, _, file) in state.values())
    with psycopg.connect(site.database_url, connect_timeout=5) as conn:
        runs = conn.execute("SELECT id, image_archive, image_digest, logs FROM submissions_submission "
                            "WHERE kind = 'container' ORDER BY id").fetchall()
    assert [pk for pk, *_ in runs] == sorted(models)
    labels = dict(zip(models, MODEL_LABELS, strict=True))
    requests_seen = site.s3_requests()
    reads = {(host, key) for host, method, key in requests_seen if method == "GET"}
    writes = {(host, key) for host, method, key in requests_seen if method in ("PUT", "POST")}
    for pk, archive, digest, logs in runs:
        label = labels[pk]
        assert archive in keys and digest.startswith("sha256:") and f"wrote {label}" in logs
        # The web host stored the archive; the sandbox host read it and wrote the model's predictions.
        assert ("web", archive) in writes and ("sandbox", archive) in reads, archive
        assert ("sandbox", state[pk][4]) in writes
    inputs = next(key for key in references if key.endswith(".tar.gz"))
    assert ("sandbox", inputs) in reads
    # Every prediction file went up through the web host and was read by a scoring host.
    for pk, (_, _, _, _, file) in state.items():
        if pk not in labels:
            assert ("web", file) in writes and {("score1", file), ("score2", file)} & reads, file
    for host in ("services", "web", "score1", "score2", "sandbox"):
        assert not (site.hosts_dir / host / "var" / "media").exists(), host
        leftovers = [p for p in site.local_files(host) if p.read_bytes()[:64].startswith(b"name,")]
        if host == "score1":
            leftovers = [p for p in leftovers if not any(q.name.startswith("arena-score-") for q in p.parents)]
        assert leftovers == [], (host, leftovers)
    print(f"\nhosts: set up in {set_up:.1f} s; {UPLOADS} prediction files and {len(models)} models uploaded; "
          f"score1 SIGKILLed ({len(pids)} processes) {killed - started:.1f} s into the burst; "
          f"{len(reclaimed)} submissions taken back by the reconciler and {len(taken_back - reclaimed)} re-sent "
          f"by the outbox, the last of them scored {recovery:.1f} s "
          f"after the kill (bound {RECOVERY_BOUND} s: lease {LEASE}, reconciler {RECONCILE}, re-send "
          f"{REDISPATCH}, dispatcher {DISPATCH}); everything scored {all_scored:.1f} s after the kill")
