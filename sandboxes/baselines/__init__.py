"""Baseline models that run in the sandbox, one folder each with a Dockerfile.

`sandboxes/baselines/<name>/` builds into the image `arena/baseline-<name>:latest`, FROM
`arena/sandbox-torch` (built by infra/sandbox-images/build.sh). Builds are cached by a hash of
the folder's files, the torch image's id and, for a baseline trained when its image is built
(`TRAINED_AT_BUILD`), its training data.

A trained baseline's Dockerfile reads its training data under `train/` of the build context:
the caller passes that folder (`train_data=`), e.g. the demo training set that
`fixtures.demo.cli.write_training_set` writes; the image must not keep it.

    python -m sandboxes.baselines build [NAME ...]
    python -m sandboxes.baselines save NAME ARCHIVE [--gzip]

`save_baseline_archive` writes a baseline as a participant would upload it: a `docker save`
archive named `demo/baseline-<name>:latest` (names under `arena/` are refused on upload).
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import docker

from sandboxes.building import (
    build_dockerfile,
    cached_image,
    directory_digest,
    image_id_for,
    recipe_hash,
)
from sandboxes.engine import docker_client
from sandboxes.errors import SandboxError

BASELINES_DIR = Path(__file__).resolve().parent
TORCH_IMAGE = "arena/sandbox-torch:latest"
UPLOAD_REPOSITORY_PREFIX = "demo/baseline-"

# Which demo track each baseline predicts for (challenge slug, track slug).
BASELINE_TRACKS: dict[str, tuple[str, str]] = {
    "mer-noise-melnet": ("mer-style", "mer-noise"),
}
#: Baselines that train when their image is built, on the training set of their track.
TRAINED_AT_BUILD: frozenset[str] = frozenset({"mer-noise-melnet"})


def baseline_names() -> list[str]:
    """Names of the baselines: the folders here that hold a Dockerfile."""
    return sorted(p.parent.name for p in BASELINES_DIR.glob("*/Dockerfile"))


def baseline_repository(name: str) -> str:
    """The image repository of baseline `name`: `arena/baseline-<name>`."""
    return f"arena/baseline-{name}"


def build_baseline(
    name: str,
    *,
    train_data: Path | None = None,
    client: docker.DockerClient | None = None,
    force: bool = False,
) -> str:
    """Build (or reuse) baseline `name` and return its image id; it is tagged
    `arena/baseline-<name>:<hash>` and `:latest`. A baseline in `TRAINED_AT_BUILD` needs
    `train_data`, the folder its Dockerfile finds under `train/`.

    SandboxError when there is no such baseline, no torch image, missing training data or the
    build fails.
    """
    folder = BASELINES_DIR / name
    if not (folder / "Dockerfile").is_file():
        raise SandboxError(f"no baseline {name!r}; known: {', '.join(baseline_names())}")
    if (name in TRAINED_AT_BUILD) != (train_data is not None):
        raise SandboxError(
            f"baseline {name!r} trains when its image is built: pass its training data "
            "(fixtures.demo.cli.write_training_set writes the demo's)"
            if train_data is None
            else f"baseline {name!r} takes no training data"
        )
    if train_data is not None and not Path(train_data).is_dir():
        raise SandboxError(f"no training data folder {train_data}")
    client = docker_client(client)
    torch_id = image_id_for(TORCH_IMAGE, client)
    if torch_id is None:
        raise SandboxError(
            f"{TORCH_IMAGE} is missing: build it with `bash infra/sandbox-images/build.sh`"
        )
    repository = baseline_repository(name)
    parts = [directory_digest(folder), torch_id]
    if train_data is not None:
        parts.append(directory_digest(Path(train_data)))
    key = recipe_hash(*parts)
    if force and image_id_for(f"{repository}:{key}", client) is not None:
        client.images.remove(f"{repository}:{key}", noprune=True)

    def build(tag: str) -> None:
        if train_data is None:
            build_dockerfile(folder, tag, buildargs={"BASE_IMAGE": torch_id}, client=client)
            return
        with tempfile.TemporaryDirectory(prefix="baseline-context-") as context:
            shutil.copytree(folder, context, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            shutil.copytree(train_data, Path(context) / "train")
            build_dockerfile(Path(context), tag, buildargs={"BASE_IMAGE": torch_id}, client=client)

    return cached_image(repository, key, build, client=client)


def build_all_baselines(
    *,
    train_data: Mapping[str, Path] | None = None,
    client: docker.DockerClient | None = None,
    force: bool = False,
) -> dict[str, str]:
    """Build (or reuse) every baseline, those in `TRAINED_AT_BUILD` on their folder in
    `train_data`; return {name: image id}."""
    train_data = train_data or {}
    return {
        name: build_baseline(name, train_data=train_data.get(name), client=client, force=force)
        for name in baseline_names()
    }


def save_baseline_archive(
    name: str,
    path: Path,
    *,
    train_data: Path | None = None,
    client: docker.DockerClient | None = None,
    compress: bool = False,
) -> str:
    """Build (or reuse) baseline `name` (see `build_baseline` for `train_data`) and write it to
    `path` as a `docker save` archive (gzipped when `compress`), named
    `demo/baseline-<name>:latest`; return its image id."""
    client = docker_client(client)
    image_id = build_baseline(name, train_data=train_data, client=client)
    upload_name = f"{UPLOAD_REPOSITORY_PREFIX}{name}:latest"
    client.images.get(image_id).tag(upload_name)
    image = client.images.get(image_id)  # re-read: the new tag must be among its tags
    path = Path(path)
    try:
        with path.open("wb") as raw:
            out = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) if compress else raw
            with out:
                for chunk in image.save(named=upload_name):
                    out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return image_id
