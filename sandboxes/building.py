"""Building images with no registry and no network, cached by a hash of their recipe.

An image built from a recipe is tagged `<repository>:<recipe hash>` and `<repository>:latest`;
when the hash tag already exists the build is skipped. The recipe hash covers everything the
build reads (Dockerfile and context files, or an explicit description) and the id of the image
it starts from, so a rebuilt parent rebuilds its children.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, ImageNotFound

from sandboxes.engine import docker_client
from sandboxes.errors import SandboxError

log = logging.getLogger(__name__)

HASH_LENGTH = 16
# Dockerfiles label their intermediate stages with this, so that they are pruned after a build.
BUILD_STAGE_LABEL = "arena.build-stage"


def recipe_hash(*parts: str | bytes) -> str:
    """Return a short hex digest of `parts` (order matters), used as an image tag."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:HASH_LENGTH]


def directory_digest(folder: Path) -> str:
    """Return a hex digest of every file under `folder`: relative paths and bytes, in order.

    Editor droppings (`__pycache__`, `*.pyc`) are left out."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        digest.update(str(relative).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def image_id_for(reference: str, client: docker.DockerClient | None = None) -> str | None:
    """Return the id of the local image `reference` (a tag or an id), or None when absent."""
    try:
        return docker_client(client).images.get(reference).id
    except ImageNotFound:
        return None


def cached_image(
    repository: str,
    key: str,
    build: Callable[[str], None],
    *,
    client: docker.DockerClient | None = None,
) -> str:
    """Return the id of `repository:key`, calling `build(tag)` first when no such image exists.

    `build` must leave an image tagged `repository:key`. The image is also tagged
    `repository:latest`.
    """
    client = docker_client(client)
    tag = f"{repository}:{key}"
    image_id = image_id_for(tag, client)
    if image_id is None:
        log.info("building %s", tag)
        build(tag)
        image_id = image_id_for(tag, client)
        if image_id is None:
            raise SandboxError(f"the build of {tag} finished without producing the image")
    else:
        log.info("reusing %s (%s)", tag, image_id)
    client.images.get(image_id).tag(repository, "latest")
    _drop_stale_tags(client, repository, keep={tag, f"{repository}:latest"})
    return image_id


def _drop_stale_tags(client: docker.DockerClient, repository: str, keep: set[str]) -> None:
    """Untag earlier recipe builds of `repository`; the engine deletes those no longer used."""
    for image in client.images.list(name=repository):
        for stale in set(image.tags) - keep:
            if stale.rpartition(":")[0] != repository:
                continue
            try:
                client.images.remove(stale, noprune=False)
                log.info("removed the stale %s", stale)
            except APIError as exc:
                log.warning("could not remove the stale %s: %s", stale, exc.explanation or exc)


def build_dockerfile(
    context: Path,
    tag: str,
    *,
    buildargs: dict[str, str] | None = None,
    client: docker.DockerClient | None = None,
    echo: Callable[[str], None] | None = None,
) -> None:
    """Build the Dockerfile in `context` as `tag`, with no network and without pulling.

    Build output goes line by line to `echo` (default: the module logger); a failed step raises
    SandboxError with the last lines of output.
    """
    client = docker_client(client)
    echo = echo or log.info
    try:
        _, output = client.images.build(
            path=str(context),
            tag=tag,
            buildargs=buildargs or {},
            network_mode="none",
            pull=False,
            rm=True,
            forcerm=True,
        )
        _echo_stream(output, echo)
    except BuildError as exc:
        tail = _tail_lines(exc.build_log, 15)
        raise SandboxError(f"building {tag} failed: {exc.msg}\n{tail}") from exc
    except APIError as exc:
        raise SandboxError(f"building {tag} failed: {exc.explanation or exc}") from exc
    finally:
        # Intermediate stages stay behind as untagged images; those labelled as such go.
        try:
            client.images.prune(filters={"dangling": True, "label": BUILD_STAGE_LABEL})
        except APIError as exc:
            log.warning("could not prune build stages: %s", exc)


def _echo_stream(output: Iterable[dict], echo: Callable[[str], None]) -> None:
    pending = ""
    for chunk in output:
        pending += chunk.get("stream", "")
        *lines, pending = pending.split("\n")
        for line in lines:
            if line.strip():
                echo(line.rstrip())
    if pending.strip():
        echo(pending.rstrip())


def _tail_lines(build_log: Iterable[dict], count: int) -> str:
    lines: list[str] = []
    for chunk in build_log:
        lines.extend(str(chunk.get("stream") or chunk.get("error") or "").splitlines())
    return "\n".join(line for line in lines[-count:] if line.strip())
