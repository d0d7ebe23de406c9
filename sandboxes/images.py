"""Getting a submitted image onto the worker: loading an archive or pulling from a registry."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, ImageNotFound

from sandboxes.archives import inspect_image_archive
from sandboxes.engine import docker_client
from sandboxes.errors import SandboxError
from sandboxes.references import is_allowed, parse_reference

log = logging.getLogger(__name__)


def image_present(image_id: str, client: docker.DockerClient | None = None) -> bool:
    """True when the engine has the image `image_id` (an id, or a tag or digest reference)."""
    try:
        docker_client(client).images.get(image_id)
    except ImageNotFound:
        return False
    except APIError as exc:
        if exc.status_code in (400, 404):
            return False
        raise
    return True


def load_image_archive(
    path: Path, *, max_bytes: int, client: docker.DockerClient | None = None
) -> str:
    """Load the `docker save` archive at `path` (tar or tar.gz) and return its image id
    (`sha256:...`, the hash of its config, which pins it).

    The archive is checked first (`sandboxes.archives.inspect_image_archive`: size, one image,
    no entry outside the archive, no `arena/` names); an image already present is not loaded
    again. SandboxError with a message for the participant when the archive is refused or the
    engine rejects it.
    """
    path = Path(path)
    image = inspect_image_archive(path, max_bytes=max_bytes)
    client = docker_client(client)
    if image_present(image.image_id, client):
        log.info("image %s already present; not loading %s", image.image_id, path)
        return image.image_id
    try:
        with path.open("rb") as handle:
            client.images.load(handle)
    except (APIError, DockerException) as exc:
        reason = exc.explanation if isinstance(exc, APIError) else str(exc)
        raise SandboxError(f"The engine could not load the image archive: {reason}") from exc
    if not image_present(image.image_id, client):
        raise SandboxError(
            "The engine loaded the archive, but not as the image its manifest describes."
        )
    return image.image_id


def pull_image(
    reference: str, *, allowlist: Sequence[str], client: docker.DockerClient | None = None
) -> str:
    """Pull `reference` when its registry or repository is on `allowlist`, and return the
    pulled image pinned by digest: `registry/path@sha256:...` (what `run_container` and
    `image_present` take; the part after `@` is the digest).

    SandboxError, before any network access, when the reference is malformed or not allowed;
    SandboxError when the pull fails.
    """
    parsed = parse_reference(reference)
    if not is_allowed(parsed, allowlist):
        allowed = ", ".join(a for a in allowlist if a.strip()) or "none"
        raise SandboxError(
            f"Images from {parsed.name} are not accepted here; allowed registries and "
            f"repositories: {allowed}."
        )
    client = docker_client(client)
    repository = parsed.name
    try:
        image = client.images.pull(repository, tag=parsed.digest or parsed.tag or "latest")
    except (APIError, DockerException) as exc:
        reason = exc.explanation if isinstance(exc, APIError) else str(exc)
        raise SandboxError(f"Could not pull {reference}: {reason}") from exc
    for repo_digest in image.attrs.get("RepoDigests") or []:
        name, _, digest = repo_digest.partition("@")
        if parse_reference(name).name == repository and digest:
            if parsed.digest and digest != parsed.digest:
                continue
            return f"{repository}@{digest}"
    raise SandboxError(f"The registry gave no digest for {reference}, so it cannot be pinned.")
