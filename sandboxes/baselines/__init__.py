"""Baseline models that run in the sandbox, one folder each with a Dockerfile.

`sandboxes/baselines/<name>/` builds into the image `arena/baseline-<name>:latest`, FROM
`arena/sandbox-torch` (built by infra/sandbox-images/build.sh). Builds are cached by a hash of
the folder's files and the torch image's id.

    python -m sandboxes.baselines build [NAME ...]
    python -m sandboxes.baselines save NAME ARCHIVE [--gzip]

`save_baseline_archive` writes a baseline as a participant would upload it: a `docker save`
archive named `demo/baseline-<name>:latest` (names under `arena/` are refused on upload).
"""

from __future__ import annotations

import gzip
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
    "mer-noise-linear": ("mer-style", "mer-noise"),
}


def baseline_names() -> list[str]:
    """Names of the baselines: the folders here that hold a Dockerfile."""
    return sorted(p.parent.name for p in BASELINES_DIR.glob("*/Dockerfile"))


def baseline_repository(name: str) -> str:
    """The image repository of baseline `name`: `arena/baseline-<name>`."""
    return f"arena/baseline-{name}"


def build_baseline(
    name: str, *, client: docker.DockerClient | None = None, force: bool = False
) -> str:
    """Build (or reuse) baseline `name` and return its image id; it is tagged
    `arena/baseline-<name>:<hash>` and `:latest`.

    SandboxError when there is no such baseline, no torch image or the build fails.
    """
    folder = BASELINES_DIR / name
    if not (folder / "Dockerfile").is_file():
        raise SandboxError(f"no baseline {name!r}; known: {', '.join(baseline_names())}")
    client = docker_client(client)
    torch_id = image_id_for(TORCH_IMAGE, client)
    if torch_id is None:
        raise SandboxError(
            f"{TORCH_IMAGE} is missing: build it with `bash infra/sandbox-images/build.sh`"
        )
    repository = baseline_repository(name)
    key = recipe_hash(directory_digest(folder), torch_id)
    if force and image_id_for(f"{repository}:{key}", client) is not None:
        client.images.remove(f"{repository}:{key}", noprune=True)
    return cached_image(
        repository,
        key,
        lambda tag: build_dockerfile(
            folder, tag, buildargs={"BASE_IMAGE": torch_id}, client=client
        ),
        client=client,
    )


def build_all_baselines(
    *, client: docker.DockerClient | None = None, force: bool = False
) -> dict[str, str]:
    """Build (or reuse) every baseline; return {name: image id}."""
    return {name: build_baseline(name, client=client, force=force) for name in baseline_names()}


def save_baseline_archive(
    name: str,
    path: Path,
    *,
    client: docker.DockerClient | None = None,
    compress: bool = False,
) -> str:
    """Build (or reuse) baseline `name` and write it to `path` as a `docker save` archive
    (gzipped when `compress`), named `demo/baseline-<name>:latest`; return its image id."""
    client = docker_client(client)
    image_id = build_baseline(name, client=client)
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
