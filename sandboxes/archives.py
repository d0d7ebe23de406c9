"""Checking a `docker save` archive before it counts or the engine sees it (pure: no engine needed).

An archive is accepted when it is a tar (plain or compressed) no larger than the track allows,
whose members all stay inside the archive (no absolute names, no `..`, no device or special
files, links only to other members), that holds exactly one image described by `manifest.json`,
whose config blob is present and hashes to the image id the engine will give it, and whose
layers are all present. Names in the `arena/` namespace are refused: loading them would re-tag
the platform's own images.

The archive is read once, front to back, as a stream: its size on disk, what it expands to, the
number of its entries and the size of any header read into memory are all bounded, so a hostile
archive costs at most the time to read it. The platform checks an upload with it before the
submission counts; the worker checks the archive again before loading it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandboxes.errors import SandboxError

GZIP_MAGIC = b"\x1f\x8b"
# A compressed archive may expand to at most this many times its size limit.
MAX_EXPANSION = 8
# manifest.json and the config are small JSON files; anything bigger is not a docker save.
MAX_JSON_BYTES = 4 * 2**20
# `docker save` writes a handful of entries per layer, and an image has at most 127 layers.
MAX_ENTRIES = 10_000
# Long names and pax records are read into memory whole: a real one is a few hundred bytes.
MAX_HEADER_BYTES = 2**20
# Links are followed this many times at most when finding the config and the layers.
MAX_LINK_HOPS = 8
RESERVED_NAMESPACE = "arena/"
CUT_SHORT = "The image archive is cut short; upload the whole archive again."
_EXTENDED_HEADERS = (
    tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
)
_READ_ERRORS = (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error, OSError)


@dataclass(frozen=True)
class ArchiveImage:
    """The image inside a checked archive: its id (`sha256:` + hash of its config), its tags,
    its layer paths and whether the archive is gzipped."""

    image_id: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]
    gzipped: bool


class _BoundedTarInfo(tarfile.TarInfo):
    """A member header whose extended parts are read into memory only when they are small."""

    def _proc_member(self, tarfile):  # tarfile's documented hook for subclasses
        if self.type in _EXTENDED_HEADERS and self.size > MAX_HEADER_BYTES:
            raise SandboxError(
                f"The image archive holds an extended header of {_size(self.size)}, which `docker save` "
                "never writes; upload an archive made by `docker save`."
            )
        return super()._proc_member(tarfile)


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


def _link_target(member: tarfile.TarInfo) -> PurePosixPath:
    """Where a link points, relative to the archive's root (a hard link names it from there)."""
    target = PurePosixPath(member.linkname)
    return PurePosixPath(member.name).parent / target if member.issym() else target


def _check_member(member: tarfile.TarInfo) -> None:
    _safe_name(member.name)
    if member.issym() or member.islnk():
        # docker save links identical layers to each other; a link must stay inside too.
        if PurePosixPath(member.linkname).is_absolute() or ".." in _normalise(_link_target(member)):
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


def _key(path: PurePosixPath) -> str:
    return PurePosixPath(*_normalise(path)).as_posix()


def inspect_image_archive(path: Path, *, max_bytes: int) -> ArchiveImage:
    """Check the `docker save` archive at `path` (see the module docstring) and describe its
    image; SandboxError with a one-line message for the participant when it is refused."""
    size = Path(path).stat().st_size
    if size > max_bytes:
        raise SandboxError(
            f"The image archive is {_size(size)}; this track accepts at most {_size(max_bytes)}."
        )
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == GZIP_MAGIC
    members: dict[str, tarfile.TarInfo] = {}
    digests: dict[str, str] = {}  # sha256 of every small file, to find the config's
    manifest = b""
    expanded = 0
    try:
        # "r|*": one pass front to back, whatever the compression; nothing is held but headers.
        with tarfile.open(path, mode="r|*", tarinfo=_BoundedTarInfo) as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_ENTRIES:
                    raise SandboxError(
                        f"The image archive holds more than {MAX_ENTRIES:,} entries; "
                        "upload an archive made by `docker save`."
                    )
                _check_member(member)
                expanded += member.size
                if expanded > max_bytes * MAX_EXPANSION:
                    raise SandboxError(
                        f"The image archive expands to more than {_size(max_bytes * MAX_EXPANSION)}"
                        "; this track does not accept it."
                    )
                key = _key(PurePosixPath(member.name))
                members[key] = member
                if member.isfile() and member.size <= MAX_JSON_BYTES:
                    digest, data = _read_small(tar, member, keep=key == "manifest.json")
                    digests[key] = digest
                    if key == "manifest.json":
                        manifest = data
            # tarfile takes an archive that stops at an entry's header for a finished one; a finished
            # archive goes on with an end block, which the last step above read whole.
            if tar.fileobj.tell() < tar.offset + tarfile.BLOCKSIZE:
                raise SandboxError(CUT_SHORT)
    except _READ_ERRORS as exc:
        if str(exc) == "unexpected end of data":  # tarfile's words for an archive that stops inside an entry
            raise SandboxError(CUT_SHORT) from exc
        raise SandboxError(
            "The file is not an image archive (a tar or tar.gz made by `docker save`): "
            f"{exc}"
        ) from exc
    return _describe(members, digests, manifest, gzipped)


def _read_small(tar: tarfile.TarFile, member: tarfile.TarInfo, *, keep: bool) -> tuple[str, bytes]:
    """(sha256 hex digest, the data when ``keep``) of a small member, read in chunks."""
    digest = hashlib.sha256()
    kept = bytearray()
    extracted = tar.extractfile(member)
    while extracted is not None and (chunk := extracted.read(2**20)):
        digest.update(chunk)
        if keep:
            kept += chunk
    return digest.hexdigest(), bytes(kept)


def _resolve(name: str, members: dict[str, tarfile.TarInfo]) -> str | None:
    """The regular file that the entry ``name`` is, or links to; None when there is none."""
    key = _key(_safe_name(name))
    for _ in range(MAX_LINK_HOPS):
        member = members.get(key)
        if member is None or not (member.isfile() or member.issym() or member.islnk()):
            return None
        if member.isfile():
            return key
        key = _key(_link_target(member))
    return None


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
    config_key = _resolve(config_name, members)
    if config_key is None or config_key not in digests:
        raise SandboxError(f"The archive's image config {config_name!r} is missing.")
    image_id = "sha256:" + digests[config_key]
    layers = entry.get("Layers")
    if not isinstance(layers, list) or not layers:
        raise SandboxError(
            "The archive's manifest.json names no layers, so it is not an image archive made "
            "by `docker save`."
        )
    layers = tuple(str(layer) for layer in layers)
    for layer in layers:
        if _resolve(layer, members) is None:
            raise SandboxError(f"The archive's layer {layer!r} is missing.")
    tags = tuple(str(tag) for tag in entry.get("RepoTags") or [])
    for tag in tags:
        if tag.startswith(RESERVED_NAMESPACE) or tag.startswith("docker.io/" + RESERVED_NAMESPACE):
            raise SandboxError(
                f"The image is named {tag!r}, in the {RESERVED_NAMESPACE} namespace that the "
                "platform keeps for its own images; tag it with another name before saving it."
            )
    return ArchiveImage(image_id=image_id, repo_tags=tags, layers=layers, gzipped=gzipped)
