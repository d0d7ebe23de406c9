"""The corruption image: `arena/sandbox-corrupt`, the torch image plus `sandboxes.corruptions`.

Only that package goes in (under /opt/arena, with an empty `sandboxes/__init__.py`), so
`python3 -m sandboxes.corruptions apply ...` runs there without the Docker SDK or Django. The
build is cached by a hash of the Dockerfile, the package's files and the torch image's id.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import docker

import sandboxes.corruptions
from sandboxes.baselines import TORCH_IMAGE
from sandboxes.building import build_dockerfile, cached_image, directory_digest, image_id_for, recipe_hash
from sandboxes.conditions.cache import make_readable
from sandboxes.conditions.prepare import CORRUPT_REPOSITORY
from sandboxes.engine import docker_client
from sandboxes.errors import SandboxError

CORRUPTIONS_DIR = Path(sandboxes.corruptions.__file__).resolve().parent

CORRUPT_DOCKERFILE = """\
# arena/sandbox-corrupt: the platform's corruption step (python3 -m sandboxes.corruptions).
ARG BASE_IMAGE=arena/sandbox-torch:latest
FROM ${BASE_IMAGE}
COPY sandboxes /opt/arena/sandboxes
ENV PYTHONPATH=/opt/arena
RUN python3 -m sandboxes.corruptions apply --help > /dev/null \\
    && python3 -c "import sandboxes.corruptions.apply"
"""


def build_corrupt_image(*, client: docker.DockerClient | None = None, force: bool = False) -> str:
    """Build (or reuse) `arena/sandbox-corrupt` and return its image id; it is tagged
    `arena/sandbox-corrupt:<hash>` and `:latest`. SandboxError when the torch image is missing
    or the build fails."""
    client = docker_client(client)
    torch_id = image_id_for(TORCH_IMAGE, client)
    if torch_id is None:
        raise SandboxError(f"{TORCH_IMAGE} is missing: build it with `bash infra/sandbox-images/build.sh`")
    key = recipe_hash(CORRUPT_DOCKERFILE, directory_digest(CORRUPTIONS_DIR), torch_id)
    if force and image_id_for(f"{CORRUPT_REPOSITORY}:{key}", client) is not None:
        client.images.remove(f"{CORRUPT_REPOSITORY}:{key}", noprune=True)

    def build(tag: str) -> None:
        with tempfile.TemporaryDirectory(prefix="arena-corrupt-") as workdir:
            context = Path(workdir)
            (context / "Dockerfile").write_text(CORRUPT_DOCKERFILE, encoding="utf-8")
            package = context / "sandboxes"
            package.mkdir()
            (package / "__init__.py").write_text("", encoding="utf-8")
            shutil.copytree(CORRUPTIONS_DIR, package / "corruptions",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            make_readable(package)
            build_dockerfile(context, tag, buildargs={"BASE_IMAGE": torch_id}, client=client)

    return cached_image(CORRUPT_REPOSITORY, key, build, client=client)
