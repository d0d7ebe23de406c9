"""Writing small `docker save`-shaped archives, well-formed or hostile, for the tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

CONFIG = json.dumps(
    {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
).encode()
CONFIG_ID = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
LAYER = "0123abcd/layer.tar"


def _file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_archive(
    path: Path,
    *,
    tags: tuple[str, ...] = ("team/model:1",),
    images: int = 1,
    gz: bool = False,
    with_config: bool = True,
    with_layer: bool = True,
    layer_bytes: bytes = b"",
    extra: tuple[tarfile.TarInfo, ...] = (),
    manifest: bytes | None = None,
) -> Path:
    """Write a one-layer image archive like `docker save` makes, varied by the arguments."""
    config_name = CONFIG_ID.removeprefix("sha256:") + ".json"
    entries = [{"Config": config_name, "RepoTags": list(tags), "Layers": [LAYER]}] * images
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        if with_layer:
            _file(tar, LAYER, layer_bytes or b"\0" * 1024)
        if with_config:
            _file(tar, config_name, CONFIG)
        for info in extra:
            tar.addfile(info, io.BytesIO(b"") if info.isfile() else None)
        _file(tar, "manifest.json", manifest if manifest is not None else json.dumps(entries).encode())
    data = buffer.getvalue()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info
