"""Hostile models on a real engine: each ends contained, with a message the participant can act
on, and leaves nothing behind (checked by the `run_ids` fixture after every test)."""

from __future__ import annotations

import pytest

from tests.sandboxes.conftest import ps_lines

pytestmark = pytest.mark.docker

TIMED_OUT = (
    "Your model did not finish within its time limit of {} s and was stopped. Make it faster, "
    "and check that it does not wait for input or for the network (the sandbox has none)."
)


def exited(code: int, why: str = "") -> str:
    return (
        f"Your model exited with code {code}{why}. Check its logs, and run it locally with "
        "`docker run --network none --read-only -v INPUTS:/input:ro` before submitting."
    )


FORK_BOMB = """
import os
root = os.getpid()
reported = False
while True:
    try:
        os.fork()
    except OSError as error:
        if os.getpid() == root and not reported:
            reported = True
            count = sum(name.isdigit() for name in os.listdir("/proc"))
            print("fork refused: errno", error.errno, "processes", count, flush=True)
"""


def test_fork_bomb_is_held_at_the_pids_limit_then_stopped(sandbox):
    result = sandbox.run(FORK_BOMB, wall_seconds=4, pids=64, cpus=0.5, memory_mb=256)
    assert result.timed_out is True
    assert result.exit_code is None
    assert result.failure == TIMED_OUT.format(4)
    # docker-init, the bomb's root and its descendants: exactly the 64 the limit allows.
    assert result.logs == "fork refused: errno 11 processes 64\n"
    assert 4 <= result.duration_s < 6


MEMORY_HOG = """
chunks = []
while True:
    chunks.append(bytearray(1 << 20))
"""


def test_memory_hog_is_killed_for_memory(sandbox):
    result = sandbox.run(MEMORY_HOG, memory_mb=64)
    assert result.oom_killed is True
    assert result.exit_code == 137
    assert result.timed_out is False
    assert result.failure == (
        "Your model ran out of its 64 MB of memory and was stopped. Reduce its memory use "
        "(smaller batches or model) and submit again."
    )


def test_busy_loop_is_killed_at_the_time_limit(sandbox):
    result = sandbox.run("while True: pass", wall_seconds=2, cpus=0.5)
    assert result.timed_out is True
    assert result.exit_code is None
    assert result.failure == TIMED_OUT.format(2)
    assert 2 <= result.duration_s < 3


NETWORK = """
import os, socket
print("interfaces", sorted(os.listdir("/sys/class/net")))
for host, port in [("1.1.1.1", 53), ("172.17.0.1", 2375), ("10.0.0.1", 80)]:
    try:
        socket.create_connection((host, port), timeout=2)
        print(host, "connected")
    except OSError as error:
        print(host, "errno", error.errno)
try:
    socket.getaddrinfo("deb.debian.org", 80)
    print("dns resolved")
except socket.gaierror as error:
    print("dns errno", error.errno)
raise SystemExit(5)
"""


def test_network_access_is_impossible(sandbox):
    result = sandbox.run(NETWORK)
    assert result.logs == (
        "interfaces ['lo']\n"
        "1.1.1.1 errno 101\n"
        "172.17.0.1 errno 101\n"
        "10.0.0.1 errno 101\n"
        "dns errno -3\n"
    )
    assert result.exit_code == 5
    assert result.failure == exited(5)


WRITE_OUTSIDE = """
import os
def attempt(label, action):
    try:
        action()
        print(label, "written")
    except OSError as error:
        print(label, "errno", error.errno)
attempt("/", lambda: open("/evil", "w"))
attempt("/etc", lambda: open("/etc/evil", "w"))
attempt("/usr/local/bin", lambda: open("/usr/local/bin/evil", "w"))
attempt("/input", lambda: open("/input/evil", "w"))
attempt("/var/tmp", lambda: os.mkdir("/var/tmp/evil"))
with open("/tmp/run.sh", "w") as script:
    script.write("#!/bin/sh\\necho escaped\\n")
os.chmod("/tmp/run.sh", 0o755)
attempt("exec /tmp", lambda: os.execv("/tmp/run.sh", ["/tmp/run.sh"]))
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines())
print("uid", os.getuid(), "gid", os.getgid(), "caps", status["CapEff"], status["CapBnd"],
      "no_new_privs", status["NoNewPrivs"], "seccomp", status["Seccomp"])
print("docker socket", os.path.exists("/var/run/docker.sock") or os.path.exists("/run/docker.sock"))
raise SystemExit(6)
"""


def test_writes_outside_output_are_refused(sandbox):
    result = sandbox.run(WRITE_OUTSIDE)
    assert result.logs == (
        "/ errno 30\n"
        "/etc errno 30\n"
        "/usr/local/bin errno 30\n"
        "/input errno 30\n"
        "/var/tmp errno 30\n"
        "exec /tmp errno 13\n"
        "uid 65534 gid 65534 caps 0000000000000000 0000000000000000 no_new_privs 1 seccomp 2\n"
        "docker socket False\n"
    )
    assert result.exit_code == 6
    assert result.failure == exited(6)
    assert sorted(p.name for p in sandbox.input_dir.iterdir()) == ["inputs.csv"]


OUTPUT_FLOOD = """
block = b"x" * (1 << 20)
with open("/output/flood.bin", "wb") as out:
    for _ in range(1024):  # 1 GB
        out.write(block)
"""


def test_a_1gb_output_flood_is_cut_at_the_output_cap(sandbox):
    result = sandbox.run(OUTPUT_FLOOD, output_mb=16)
    assert result.output_truncated is True
    assert result.exit_code == 1
    assert result.logs.endswith("OSError: [Errno 28] No space left on device\n")
    assert result.output_files == ["flood.bin"]
    assert (sandbox.output_dir / "flood.bin").stat().st_size == 16 * 2**20
    assert result.failure == (
        "Your model wrote more than the 16 MB allowed in /output, so its output was cut off. "
        "Write only /output/predictions.csv there; use /tmp (64 MB) for scratch files."
    )


INODE_FLOOD = """
import os
for i in range(1_000_000):
    open(f"/output/{i}", "w").close()
"""


def test_an_inode_flood_in_output_is_cut_too(sandbox):
    result = sandbox.run(INODE_FLOOD)
    assert result.output_truncated is True
    assert result.exit_code == 1
    assert result.logs.endswith("OSError: [Errno 28] No space left on device: '/output/9999'\n")
    assert len(result.output_files) == 9999
    assert result.failure.startswith("Your model wrote more than the 100 MB allowed in /output")


LOG_FLOOD = """
import sys, time
line = "x" * 999 + "\\n"
for _ in range(5_000):  # 5 MB, several times what the engine keeps
    sys.stdout.write(line)
print("last words", flush=True)
time.sleep(600)
"""


def test_a_log_flood_keeps_only_the_last_bytes(sandbox):
    result = sandbox.run(LOG_FLOOD, wall_seconds=5, log_bytes=10_000)
    assert result.timed_out is True
    assert result.failure == TIMED_OUT.format(5)
    assert result.logs_truncated is True
    assert len(result.logs.encode()) <= 10_000
    assert result.logs.endswith("x" * 999 + "\nlast words\n")
    assert set(result.logs.replace("\n", "").removesuffix("last words")) == {"x"}


LEAVE_CHILDREN = """
import shutil, subprocess
for _ in range(3):
    subprocess.Popen(["sleep", "617"], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
shutil.copy("/input/inputs.csv", "/output/predictions.csv")
print("left three sleepers behind")
"""


def test_children_left_behind_die_with_the_model(sandbox):
    result = sandbox.run(LEAVE_CHILDREN, wall_seconds=20)
    assert result.failure is None
    assert result.exit_code == 0
    assert result.logs == "left three sleepers behind\n"
    # The run ended when the model did, not when its detached children would have.
    assert result.duration_s < 5
    assert ps_lines(lambda args: args == "sleep 617") == []


def test_the_engine_still_serves_after_the_hostile_runs(sandbox):
    result = sandbox.run("import shutil; shutil.copy('/input/inputs.csv', '/output/predictions.csv')")
    assert result.failure is None
    assert (sandbox.output_dir / "predictions.csv").read_text() == "name,value\na,1\nb,2\n"
