"""A phase's container inputs: their SHA-256 (kept in one place, here) and the media check of a
robustness phase (every WAV and PNG of the archive readable as the corruption step reads it).

The media check reads the whole archive, so it is made once per SHA-256 and stored on the phase
(``container_inputs_media``): when the inputs change, a task is queued on commit; the readiness
check uses the stored report, makes it on the spot when the archive is small
(``INLINE_CHECK_BYTES``), and otherwise says the inputs are being checked (re-sending the task,
which is safe to run twice, in case its message was lost).
"""

from __future__ import annotations

import logging
import struct
import tarfile
import tempfile
import wave
import zipfile
from pathlib import Path
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from arena.challenges.models import Phase
from arena.core.errors import DomainError
from arena.core.keys import sha256_of
from sandboxes.corruptions.io import ClipFormatError, read_png, read_wav

log = logging.getLogger(__name__)

CHECK_TASK = "arena.challenges.tasks.check_container_inputs_media"
#: Archives up to this size are checked during the readiness check itself when no report is stored
#: (the demo's 8 MB of 200 clips and 2,000 frames take about 6 s, once).
INLINE_CHECK_BYTES = 8 * 1024 * 1024
#: How many unreadable files a report lists (it counts them all).
MAX_LISTED = 10


# -- the SHA-256 ------------------------------------------------------------------------------


def phase_container_inputs_sync(*, phase: Phase) -> bool:
    """Store the SHA-256 of ``phase``'s saved container inputs (empty when it has none) and, when it
    changed, drop the old media report and queue the check of the new inputs. Call after every save
    that may change ``container_inputs``. True when the SHA-256 changed."""
    digest = ""
    if phase.container_inputs:
        with phase.container_inputs.open("rb") as stream:
            digest, _ = sha256_of(stream)
    if digest == phase.container_inputs_sha256:
        return False
    phase.container_inputs_sha256, phase.container_inputs_media = digest, {}
    Phase.objects.filter(pk=phase.pk).update(container_inputs_sha256=digest, container_inputs_media={})
    if digest and phase.robustness_protocol:
        phase_id = phase.pk
        transaction.on_commit(lambda: media_check_dispatch(phase_id=phase_id))
    return True


# -- the media check --------------------------------------------------------------------------


def media_check_dispatch(*, phase_id: int) -> bool:
    """Send the media check task; False when the broker does not answer (the readiness check sends it
    again, or checks a small archive itself)."""
    from arena.submissions.services.queueing import BROKER_ERRORS, PUBLISH_RETRY_POLICY  # imports challenges

    try:
        current_app.send_task(CHECK_TASK, args=[phase_id], queue="default", retry=True,
                              retry_policy=PUBLISH_RETRY_POLICY)
    except BROKER_ERRORS as exc:
        log.warning("broker unavailable, media check of phase %s not sent: %s", phase_id, exc)
        return False
    return True


def phase_media_check(*, phase_id: int) -> dict[str, Any] | None:
    """Check the media of the phase's stored container inputs and store the report, unless one is stored
    for the same SHA-256 already (so running twice does the work once). The report; None when the phase
    or its inputs are gone."""
    phase = Phase.objects.filter(pk=phase_id).first()
    if phase is None or not phase.container_inputs:
        return None
    if not phase.container_inputs_sha256:
        phase_container_inputs_sync(phase=phase)
    sha = phase.container_inputs_sha256
    if (phase.container_inputs_media or {}).get("sha256") == sha:
        return phase.container_inputs_media
    report = {**container_inputs_media_report(phase), "sha256": sha, "checked_at": timezone.now().isoformat()}
    # Compare-and-set: a check of inputs replaced meanwhile does not overwrite the newer inputs' report.
    Phase.objects.filter(pk=phase.pk, container_inputs_sha256=sha).update(container_inputs_media=report)
    return report


def phase_media_report(phase: Phase) -> dict[str, Any] | None:
    """The media report of ``phase``'s container inputs (saved or just uploaded in a form): the stored
    one for its SHA-256, else one made now when the archive is small; None while it is being checked."""
    file = phase.container_inputs
    if not file:
        return None
    # A file uploaded in a form that is not saved yet (Django's FieldFile flag): checked, never stored.
    saved = getattr(file, "_committed", True) and phase.pk is not None
    stored = phase.container_inputs_media or {}
    if saved and phase.container_inputs_sha256 and stored.get("sha256") == phase.container_inputs_sha256:
        return stored
    if file.size <= INLINE_CHECK_BYTES:
        if saved:
            return phase_media_check(phase_id=phase.pk)
        return container_inputs_media_report(phase)
    if saved:
        media_check_dispatch(phase_id=phase.pk)
    return None


def container_inputs_media_report(phase: Phase) -> dict[str, Any]:
    """Unpack the phase's container inputs as the sandbox does and check their media."""
    from arena.submissions.services.containers import unpack_container_inputs  # imports challenges

    with tempfile.TemporaryDirectory(prefix="arena-media-") as tmp:
        folder = Path(tmp) / "input"
        try:
            unpack_container_inputs(phase, folder)
        except (DomainError, OSError, EOFError, ValueError, zipfile.BadZipFile, tarfile.TarError) as exc:
            return {"wav_files": 0, "png_files": 0, "clips_with_audio": 0, "problem_count": 1,
                    "problems": [{"file": Path(phase.container_inputs.name).name,
                                  "reason": f"cannot be unpacked ({getattr(exc, 'message', exc)})"}]}
        return media_report(folder)


def media_report(folder: Path) -> dict[str, Any]:
    """Read every ``*.wav`` (16 kHz mono 16-bit) and ``*.png`` under ``folder`` as the corruption step
    does: how many there are, how many clips have audio (not silent), and the unreadable ones with why
    (at most MAX_LISTED listed, all counted)."""
    problems: list[dict[str, str]] = []
    wavs = pngs = with_audio = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix not in (".wav", ".png"):
            continue
        name = path.relative_to(folder).as_posix()
        if suffix == ".wav":
            wavs += 1
            reason, samples = wav_problem(path)
            with_audio += bool(samples)
        else:
            pngs += 1
            reason = png_problem(path)
        if reason:
            problems.append({"file": name, "reason": reason})
    return {"wav_files": wavs, "png_files": pngs, "clips_with_audio": with_audio, "problem_count": len(problems),
            "problems": problems[:MAX_LISTED]}


def _reason(exc: Exception, path: Path) -> str:
    return str(exc).removeprefix(f"{path}: ").rstrip(".")


def wav_problem(path: Path) -> tuple[str, int]:
    """(why ``path`` is not a readable 16 kHz mono 16-bit WAV or "" when it is, its non-zero sample count)."""
    try:
        with wave.open(str(path), "rb") as handle:
            declared = handle.getnframes()
        samples = read_wav(path)
    except RuntimeError:
        # The standard library's wave module raises it for a chunk size past the end of the file.
        return "not a readable WAV file (a chunk size points past the end of the file)", 0
    except (ClipFormatError, wave.Error, EOFError, ValueError, OSError, struct.error) as exc:
        return _reason(exc, path) or type(exc).__name__, 0
    if len(samples) < declared:
        return f"truncated: {len(samples)} of {declared} samples", 0
    return "", int((samples != 0).sum())


def png_problem(path: Path) -> str:
    """Why ``path`` is not a readable 8-bit grayscale or RGB PNG, or "" when it is."""
    try:
        read_png(path)
    except (ClipFormatError, ValueError, OSError, struct.error) as exc:
        return _reason(exc, path) or type(exc).__name__
    return ""
