"""The fault-injection suite: bursts, a broker outage, a database restart and a killed worker.

Every scenario runs the platform as separate processes (gunicorn, Celery worker and beat) at the
default pipeline settings, on the suite's own PostgreSQL cluster and Redis, and ends with the same
checks: every accepted upload is scored exactly once, no client ever saw a 500, nothing is stuck,
and every stored board equals the board ranked again from scratch. The recovery times printed here
are the ones reported in docs/benchmarks/faults.md.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.faults.site import Client, Site

pytestmark = pytest.mark.faults

TEAMS = 10
#: How long the broker and the database stay away: the longest outage the platform promises to ride out.
OUTAGE_SECONDS = 60


def start(site: Site) -> Client:
    site.prepare(teams=TEAMS)
    site.start_web()
    site.start_worker()
    site.start_beat()
    return Client(site)


def finish(site: Site, client: Client, *, timeout: float) -> float:
    """The checks every scenario ends with; returns the seconds until everything was scored."""
    refused = [u for u in client.uploads if u.submission_id is None]
    assert not refused, f"uploads never accepted: {[(u.team, u.statuses) for u in refused][:5]}"
    assert 500 not in client.all_statuses(), client.all_statuses()
    ids = client.accepted_ids()
    assert len(ids) == len(client.uploads)  # one submission per logical upload, however often it was retried
    seconds = site.wait_all_scored(ids, timeout=timeout)
    scored = site.scored_lines()
    assert {i: scored[i] for i in ids if scored[i] > 1} == {}, "a submission was scored more than once"
    report = site.check()
    assert sorted(map(int, report["submissions"])) == ids
    assert all(s["scores"] == 2 for s in report["submissions"].values())
    assert all(board["equal"] for board in report["boards"].values()), report["boards"]
    return seconds


def test_a_burst_of_200_uploads_from_10_teams_while_scoring(site, cluster):
    log_start = cluster.log.stat().st_size
    client = start(site)
    started = time.monotonic()
    client.burst(200, teams=TEAMS, threads=20)
    uploaded = time.monotonic() - started
    seconds = finish(site, client, timeout=240)
    assert client.all_statuses() == {201: 200}
    report = site.check()
    assert {s["attempts"] for s in report["submissions"].values()} == {1}  # no attempt spent on a deadlock
    assert "deadlock detected" not in cluster.log.read_text(errors="replace")[log_start:]
    print(f"\nburst: 200 uploads answered in {uploaded:.1f} s, all scored {seconds:.1f} s after the last answer")


def test_the_broker_stopped_for_a_minute_with_work_queued_and_uploads_arriving(site):
    client = start(site)
    client.burst(40, teams=TEAMS, threads=20)  # most of it is still queued when the broker goes
    site.redis.stop()  # nothing on disk: every queued message is lost with it
    stopped = time.monotonic()
    during = client.burst(20, teams=TEAMS, threads=5)
    assert all(u.statuses == [201] for u in during)  # committed, answered, waiting in the outbox
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    site.redis.start()
    recovery = finish(site, client, timeout=240)
    print(f"\nbroker outage: every submission scored {recovery:.1f} s after the broker came back")


def test_postgresql_down_for_a_minute_while_uploading_and_scoring(site, cluster):
    client = start(site)
    client.burst(30, teams=TEAMS, threads=10)
    burst = threading.Thread(target=client.burst, args=(300,), kwargs={"teams": TEAMS, "threads": 10})
    burst.start()
    # The database goes once the burst is under way (a fixed wait can outlast a fast burst): most of it is
    # still to come.
    deadline = time.monotonic() + 60
    while len(client.accepted_ids()) < 30 + 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    cluster.stop()
    down = time.monotonic()
    assert burst.is_alive(), "the burst ended before the database went: the scenario needs a longer one"
    api, page = requests.get(f"{site.url}/api/v1/challenges", timeout=30), requests.get(site.url, timeout=30)
    assert (api.status_code, api.headers.get("Retry-After"), api.json()["code"]) == (503, "5", "service_unavailable")
    assert (page.status_code, page.headers.get("Retry-After")) == (503, "5")
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
    cluster.start()
    back = time.monotonic()
    # Every web process held a connection the restart broke: none of it shows after the database is back.
    after = [requests.get(f"{site.url}/api/v1/challenges", timeout=30).status_code for _ in range(12)]
    assert after == [200] * 12
    burst.join(timeout=300)
    statuses = client.all_statuses()
    assert statuses[503] > 0, statuses  # the restart was seen, as 503 with Retry-After
    recovery = finish(site, client, timeout=300)
    print(f"\ndatabase restart: down {back - down:.1f} s, answers {dict(statuses)}, "
          f"every submission scored {recovery:.1f} s after the uploads ended")


def test_a_whole_worker_killed_with_work_in_hand(site):
    client = start(site)
    # Long enough to outlast the first five scorings with room to spare (uploads are answered in tens of ms).
    burst = threading.Thread(target=client.burst, args=(240,), kwargs={"teams": TEAMS, "threads": 10})
    burst.start()
    deadline = time.monotonic() + 120
    while site.statuses(client.accepted_ids()).get("scored", 0) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    site.kill("worker")  # the pool's processes, the claimed and the reserved messages with them
    killed = time.monotonic()
    assert burst.is_alive()  # while uploads still arrive: there is work in hand and work to come
    site.start_worker("worker-2")
    burst.join(timeout=300)
    recovery = finish(site, client, timeout=300)
    assert time.monotonic() - killed < 150
    print(f"\nworker killed: every submission scored {time.monotonic() - killed:.1f} s after the kill "
          f"({recovery:.1f} s after the last upload was answered)")
