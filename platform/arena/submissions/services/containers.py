"""Containerised model submissions: accepting an image, and running it in the sandbox."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import File

from arena.challenges.models import Phase, SubmissionKind
from arena.core.errors import DomainError
from arena.core.keys import safe_filename, sha256_of
from arena.submissions.models import Submission
from arena.submissions.services.create import MethodInfo, _insert_under_quota, _method_fields, _prepare_create
from arena.submissions.services.uploads import MB
from sandboxes import SandboxError
from sandboxes.references import is_allowed, parse_reference


def track_image_allowlist(track) -> list[str]:
    entries = [line.strip() for line in track.image_allowlist.splitlines() if line.strip()]
    return [*settings.ARENA_IMAGE_ALLOWLIST, *entries]


def _check_archive_head(stream: BinaryIO) -> None:
    head = stream.read(512)
    stream.seek(0)
    if head[:2] == b"\x1f\x8b" or head[257:262] == b"ustar":
        return
    raise DomainError(
        "The model file is not a `docker save` archive (.tar or .tar.gz). Create it with: "
        "docker save my-model:latest | gzip > model.tar.gz",
        code="invalid_image_archive", details={"field": "image_archive"},
    )


def submission_create_container(
    *, user, phase: Phase, method: MethodInfo, archive: BinaryIO | None = None, archive_name: str = "",
    archive_size: int | None = None, image_reference: str = "", idempotency_key: str = "",
) -> tuple[Submission, bool]:
    """Accept a model as a `docker save` archive or an allowed image reference, and queue its run."""
    phase, team, key, existing = _prepare_create(
        user=user, phase=phase, kind=SubmissionKind.CONTAINER, method=method, idempotency_key=idempotency_key)
    if existing is not None:
        return existing, False
    track = phase.track
    if (archive is None) == (not image_reference.strip()):
        raise DomainError("Send either an image archive or an image reference, not both and not neither.",
                          code="invalid", details={"field": "image_archive"})
    row = dict(kind=SubmissionKind.CONTAINER, **_method_fields(method))
    if archive is not None:
        limit = track.max_image_mb * MB
        size = archive_size if archive_size is not None else _stream_size(archive)
        if size > limit:
            raise DomainError(
                f"The model archive is {size / MB:.0f} MB; this track accepts at most {track.max_image_mb} MB. "
                "Use a slimmer base image, or leave out training data and caches.",
                code="file_too_large", status=413, details={"field": "image_archive", "limit_bytes": limit})
        _check_archive_head(archive)
        digest, size = sha256_of(archive)
        name = safe_filename(archive_name or "model.tar", default="model.tar")
        row.update(image_archive=File(archive, name=name), file_name=archive_name[:255], file_size=size,
                   file_sha256=digest)
        audit = {"sha256": digest, "size": size}
    else:
        reference = image_reference.strip()
        try:
            parsed = parse_reference(reference)
        except SandboxError as exc:
            raise DomainError(str(exc), code="invalid_image_reference",
                              details={"field": "image_reference"}) from None
        allowlist = track_image_allowlist(track)
        if not is_allowed(parsed, allowlist):
            allowed = ", ".join(allowlist) or "none: upload a `docker save` archive instead"
            raise DomainError(
                f"Images from '{reference}' cannot be pulled here. Allowed registries: {allowed}.",
                code="image_not_allowed", status=403, details={"field": "image_reference"})
        row.update(image_reference=reference[:300])
        audit = {"image_reference": reference}
    return _insert_under_quota(user=user, team=team, phase=phase, idempotency_key=key, row=row, audit=audit)


def _stream_size(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def unpack_container_inputs(phase: Phase, destination: Path) -> None:
    """Place the phase's hidden test inputs in ``destination`` (a folder the sandbox mounts at /input)."""
    destination.mkdir(parents=True, exist_ok=True)
    if not phase.container_inputs:
        raise DomainError("This phase has no test inputs for models yet.", code="phase_not_ready", status=409)
    name = Path(phase.container_inputs.name).name
    with phase.container_inputs.open("rb") as source, tempfile.TemporaryFile() as local:
        shutil.copyfileobj(source, local, length=MB)
        local.seek(0)
        head = local.read(4)
        local.seek(0)
        if head[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(local) as archive:
                for info in archive.infolist():
                    _extract_member(info.filename, info.is_dir(), lambda i=info: archive.open(i), destination)
        elif head[:2] == b"\x1f\x8b" and name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(fileobj=gzip.GzipFile(fileobj=local), mode="r|") as archive:
                archive.extraction_filter = tarfile.data_filter
                archive.extractall(destination)
        else:
            with (destination / safe_filename(name.split("/", 1)[-1])).open("wb") as out:
                shutil.copyfileobj(local, out, length=MB)
    for path in [destination, *destination.rglob("*")]:
        # The model runs as an unprivileged user: inputs must be readable, never writable.
        path.chmod(0o755 if path.is_dir() else 0o644)


def _extract_member(name: str, is_dir: bool, opener, destination: Path) -> None:
    target = (destination / name).resolve()
    if not target.is_relative_to(destination.resolve()):
        raise DomainError(f"The phase's input archive holds an unsafe path '{name}'.", code="invalid_inputs")
    if is_dir:
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with opener() as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, length=MB)
