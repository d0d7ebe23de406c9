"""Participant-facing messages for a failed sandbox run: what happened and what to change."""

from __future__ import annotations

import re

from sandboxes.limits import SandboxLimits

PREDICTIONS_FILE = "predictions.csv"

# Lines a program prints when fork() or clone() failed with EAGAIN, i.e. at the pids limit.
_FORK_FAILED = re.compile(
    r"Resource temporarily unavailable|can't fork|Cannot fork|fork: retry|BlockingIOError"
    r"|can't start new thread"
)

_EXIT_CODES = {
    126: "its command could not be executed: check ENTRYPOINT and CMD",
    127: "its command was not found: check ENTRYPOINT and CMD",
    134: "it aborted (SIGABRT)",
    137: "it was killed (SIGKILL)",
    139: "it crashed with a segmentation fault (SIGSEGV)",
    143: "it was terminated (SIGTERM)",
}


def could_not_start(reason: str) -> str:
    return (
        f"Your image could not be started: {reason}. Check its ENTRYPOINT and CMD, and that "
        "it runs as a non-root user with a read-only file system."
    )


def timed_out(limits: SandboxLimits) -> str:
    return (
        f"Your model did not finish within its time limit of {limits.wall_seconds:g} s and was "
        "stopped. Make it faster, and check that it does not wait for input or for the "
        "network (the sandbox has none)."
    )


def out_of_memory(limits: SandboxLimits) -> str:
    return (
        f"Your model ran out of its {limits.memory_mb} MB of memory and was stopped. Reduce "
        "its memory use (smaller batches or model) and submit again."
    )


def output_too_large(limits: SandboxLimits) -> str:
    return (
        f"Your model wrote more than the {limits.output_mb} MB allowed in /output, so its "
        f"output was cut off. Write only /output/{PREDICTIONS_FILE} there; use /tmp "
        f"({limits.tmpfs_mb} MB) for scratch files."
    )


def exited_with(code: int, limits: SandboxLimits, logs: str) -> str:
    detail = [_EXIT_CODES[code]] if code in _EXIT_CODES else []
    if _FORK_FAILED.search(logs):
        detail.append(f"it may have hit the limit of {limits.pids} processes and threads")
    why = f" ({'; '.join(detail)})" if detail else ""
    return (
        f"Your model exited with code {code}{why}. Check its logs, and run it locally with "
        f"`docker run --network none --read-only -v INPUTS:/input:ro` before submitting."
    )


def no_predictions(files: list[str]) -> str:
    wrote = f" It wrote: {', '.join(files[:10])}." if files else " It wrote nothing there."
    return f"Your model finished but did not write /output/{PREDICTIONS_FILE}.{wrote}"
