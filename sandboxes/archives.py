"""Checking a `docker save` archive before the engine sees it (pure: no engine needed).

An archive is accepted when it is a tar (plain or gzipped) no larger than the track allows,
whose members all stay inside the archive, that holds exactly one image described by
`manifest.json`, whose config blob is present and hashes to the image id the engine will give
it, and whose layers are all present. Names in the `arena/` namespace are refused: loading
them would re-tag the platform's own images.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandboxes.errors import SandboxError

GZIP_MAGIC = b"\x1f\x8b"
# A gzipped archive may expand to at most this many times its size limit.
MAX_EXPANSION = 8
# manifest.json and the config are small JSON files; anything bigger is not a docker save.
MAX_JSON_BYTES = 4 * 2**20
RESERVED_NAMESPACE = "arena/"


@dataclass(frozen=True)
class ArchiveImage:
    """The image inside a checked archive: its id (`sha256:` + hash of its config), its tags,
    its layer paths and whether the archive is gzipped."""

    image_id: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]
    gzipped: bool


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 100 * 1024 else f"{size:,} bytes"


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise SandboxError(
            f"The image archive holds an entry outside it ({name!r}); "
            "upload an archive made by `docker save`."
        )
    return path


def _check_member(member: tarfile.TarInfo) -> None:
    name = _safe_name(member.name)
    if member.issym() or member.islnk():
        # docker save links identical layers to each other; a link must stay inside too.
        target = PurePosixPath(member.linkname)
        resolved = (name.parent / target) if member.issym() else target
        if target.is_absolute() or ".." in _normalise(resolved):
            raise SandboxError(
                f"The image archive holds a link that points outside it ({member.name!r} -> "
                f"{member.linkname!r}); upload an archive made by `docker save`."
            )
    elif not (member.isfile() or member.isdir()):
        raise SandboxError(
            f"The image archive holds a device or special file ({member.name!r}); "
            "upload an archive made by `docker save`."
        )


def _normalise(path: PurePosixPath) -> list[str]:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return [".."]
            parts.pop()
        elif part != ".":
            parts.append(part)
    return parts


def inspect_image_archive(path: Path, *, max_bytes: int) -> ArchiveImage:
    """Check the `docker save` archive at `path` (see the module docstring) and describe its
    image; SandboxError with a message for the participant when it is refused."""
    size = path.stat().st_size
    if size > max_bytes:
        raise SandboxError(
            f"The image archive is {_size(size)}; this track accepts at most {_size(max_bytes)}."
        )
    with path.open("rb") as handle:
        gzipped = handle.read(2) == GZIP_MAGIC
    members: dict[str, tarfile.TarInfo] = {}
    digests: dict[str, str] = {}  # sha256 of every small file, to find the config's
    manifest = b""
    expanded = 0
    try:
        with tarfile.open(path, mode="r:gz" if gzipped else "r:") as tar:
            for member in tar:
                _check_member(member)
                expanded += member.size
                if expanded > max_bytes * MAX_EXPANSION:
                    raise SandboxError(
                        f"The image archive expands to more than {_size(max_bytes * MAX_EXPANSION)}"
                        "; this track does not accept it."
                    )
                key = PurePosixPath(*_normalise(PurePosixPath(member.name))).as_posix()
                members[key] = member
                if member.isfile() and member.size <= MAX_JSON_BYTES:
                    extracted = tar.extractfile(member)
                    data = extracted.read() if extracted else b""
                    digests[key] = hashlib.sha256(data).hexdigest()
                    if key == "manifest.json":
                        manifest = data
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, OSError) as exc:
        raise SandboxError(
            "The file is not an image archive (a tar or tar.gz made by `docker save`): "
            f"{exc}"
        ) from exc
    return _describe(members, digests, manifest, gzipped)


def _describe(
    members: dict[str, tarfile.TarInfo], digests: dict[str, str], raw: bytes, gzipped: bool
) -> ArchiveImage:
    if "manifest.json" not in digests:
        raise SandboxError(
            "The archive has no manifest.json, so it is not an image archive made by "
            "`docker save`."
        )
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise SandboxError(f"The archive's manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(manifest, list) or len(manifest) != 1 or not isinstance(manifest[0], dict):
        count = len(manifest) if isinstance(manifest, list) else 0
        raise SandboxError(
            f"The archive holds {count} images; save exactly one (`docker save IMAGE`)."
        )
    entry = manifest[0]
    config_name = str(entry.get("Config", ""))
    config_key = PurePosixPath(*_normalise(_safe_name(config_name))).as_posix()
    if config_key not in digests:
        raise SandboxError(f"The archive's image config {config_name!r} is missing.")
    image_id = "sha256:" + digests[config_key]
    layers = tuple(str(layer) for layer in entry.get("Layers") or [])
    for layer in layers:
        if PurePosixPath(*_normalise(_safe_name(layer))).as_posix() not in members:
            raise SandboxError(f"The archive's layer {layer!r} is missing.")
    tags = tuple(str(tag) for tag in entry.get("RepoTags") or [])
    for tag in tags:
        if tag.startswith(RESERVED_NAMESPACE) or tag.startswith("docker.io/" + RESERVED_NAMESPACE):
            raise SandboxError(
                f"The image is named {tag!r}, in the {RESERVED_NAMESPACE} namespace that the "
                "platform keeps for its own images; tag it with another name before saving it."
            )
    return ArchiveImage(image_id=image_id, repo_tags=tags, layers=layers, gzipped=gzipped)
