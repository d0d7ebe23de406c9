"""Build (or reuse) the platform image with no registry: the web site, workers and beat.

    arena/platform-runtime  FROM arena/sandbox-base (debootstrapped Debian bookworm), plus a CPython
                            3.12 build copied from the host (pyenv's, or PYTHON) and every runtime
                            dependency of pyproject.toml, at the versions installed in the project's
                            venv, installed offline from wheels put into the build context
    arena/platform          FROM the runtime, plus the source tree and the collected static files

Debian bookworm's own Python is 3.11 and Django 6 needs 3.12, hence the copied interpreter: the
host is bookworm too, so every library it links against (libssl3, libffi8, libsqlite3, ...) is
already in the base, which has python3.11 and its libraries. Each image is tagged
`<repository>:<recipe hash>` and `:latest`, and reused while its hash tag exists: a source change
rebuilds only arena/platform (seconds); new dependency versions rebuild the runtime.

    python infra/platform-image/build.py [--force]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sandboxes.building import (  # noqa: E402
    build_dockerfile,
    cached_image,
    directory_digest,
    image_id_for,
    recipe_hash,
)
from sandboxes.engine import docker_client  # noqa: E402
from sandboxes.errors import SandboxError  # noqa: E402

log = logging.getLogger("platform-image")


def _sandbox_images_builder():
    """infra/sandbox-images/build.py (a script, not a package): the base image and its settings."""
    script = HERE.parent / "sandbox-images" / "build.py"
    spec = importlib.util.spec_from_file_location("arena_sandbox_images_build", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_sandbox_images = _sandbox_images_builder()
BUILD_ROOT, PIP_VERSION, ensure_base = (
    _sandbox_images.BUILD_ROOT, _sandbox_images.PIP_VERSION, _sandbox_images.ensure_base)

RUNTIME_REPOSITORY = "arena/platform-runtime"
PLATFORM_REPOSITORY = "arena/platform"
#: What of the repository goes into the image (tests, docs, infra and benchmarks do not).
SOURCE_ITEMS = ("platform", "scorers", "sandboxes", "fixtures", "manage.py", "pyproject.toml")
#: Left out of the copied interpreter: its test suite, the static library and headers, Tk and IDLE,
#: and whatever the host installed into its site-packages.
PYTHON_PRUNE = ("test", "idlelib", "tkinter", "turtledemo", "site-packages", "ensurepip",
                f"config-{sysconfig.get_python_version()}-x86_64-linux-gnu")
_IGNORE_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")


def host_python() -> Path:
    """The prefix of the CPython 3.12 build to copy: PYTHON's, else the interpreter running this."""
    executable = os.environ.get("PYTHON") or str(Path(sys.base_prefix) / "bin" / "python3.12")
    prefix = subprocess.run(
        [executable, "-c", "import sys; assert sys.version_info[:2] == (3, 12), sys.version; print(sys.base_prefix)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return Path(prefix)


def runtime_requirements() -> list[str]:
    """The project's runtime dependencies (no extras), as pyproject.toml declares them."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["dependencies"])


def installed_versions() -> str:
    """`pip freeze` of the running environment (the project itself left out): the image gets the
    versions the test suite ran with."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        check=True, capture_output=True, text=True,
    ).stdout
    return "".join(line + "\n" for line in frozen.splitlines()
                   if line and not line.startswith(("affectarena", "-e ", "#")) and " @ " not in line)


def _copy_python(prefix: Path, dest: Path) -> None:
    version = sysconfig.get_python_version()
    shutil.copytree(prefix / "bin", dest / "bin", symlinks=True)
    library = prefix / "lib" / f"python{version}"
    shutil.copytree(library, dest / "lib" / f"python{version}", symlinks=True,
                    ignore=lambda folder, names: [n for n in names if Path(folder) == library and n in PYTHON_PRUNE])
    (dest / "lib" / f"python{version}" / "site-packages").mkdir()
    for shared in (prefix / "lib").glob("libpython*.so*"):
        shutil.copy2(shared, dest / "lib" / shared.name, follow_symlinks=False)


def _download_wheels(dest: Path, requirements: Path, constraints: Path) -> None:
    """Every wheel the requirements need, at the constrained versions, for this CPython and platform
    (the host's, which the image shares); sdist-only packages are built into wheels here."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--prefer-binary",
         "--wheel-dir", str(dest), "-c", str(constraints), "-r", str(requirements)],
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--only-binary=:all:", "--dest", str(dest), f"pip=={PIP_VERSION}"],
        check=True,
    )


def ensure_runtime(base_id: str, force: bool = False) -> str:
    dockerfile = (HERE / "runtime.Dockerfile").read_text(encoding="utf-8")
    requirements = "".join(line + "\n" for line in runtime_requirements())
    constraints = installed_versions()
    prefix = host_python()
    key = recipe_hash(dockerfile, requirements, constraints, PIP_VERSION, json.dumps(PYTHON_PRUNE),
                      str(prefix), sys.version, base_id)

    def build(tag: str) -> None:
        with tempfile.TemporaryDirectory(prefix="arena-platform-runtime-", dir=BUILD_ROOT) as workdir:
            context = Path(workdir)
            shutil.copy(HERE / "runtime.Dockerfile", context / "Dockerfile")
            _copy_python(prefix, context / "python")
            wheels = context / "wheels"
            wheels.mkdir()
            (wheels / "requirements.txt").write_text(requirements, encoding="utf-8")
            (context / "constraints.txt").write_text(constraints, encoding="utf-8")
            _download_wheels(wheels, wheels / "requirements.txt", context / "constraints.txt")
            build_dockerfile(context, tag, buildargs={"BASE_IMAGE": base_id})

    if force:
        _untag(f"{RUNTIME_REPOSITORY}:{key}")
    return cached_image(RUNTIME_REPOSITORY, key, build)


def source_digest() -> str:
    """A digest of everything SOURCE_ITEMS copies into the image."""
    parts = []
    for item in SOURCE_ITEMS:
        path = REPO / item
        parts.append(directory_digest(path) if path.is_dir() else recipe_hash(path.read_bytes()))
    return recipe_hash(*parts)


def ensure_platform(runtime_id: str, force: bool = False) -> str:
    dockerfile = (HERE / "Dockerfile").read_text(encoding="utf-8")
    key = recipe_hash(dockerfile, source_digest(), runtime_id)

    def build(tag: str) -> None:
        with tempfile.TemporaryDirectory(prefix="arena-platform-", dir=BUILD_ROOT) as workdir:
            context = Path(workdir)
            shutil.copy(HERE / "Dockerfile", context / "Dockerfile")
            app = context / "app"
            app.mkdir()
            for item in SOURCE_ITEMS:
                source = REPO / item
                if source.is_dir():
                    shutil.copytree(source, app / item, ignore=_IGNORE_SOURCE)
                else:
                    shutil.copy(source, app / item)
            build_dockerfile(context, tag, buildargs={"RUNTIME_IMAGE": runtime_id})

    if force:
        _untag(f"{PLATFORM_REPOSITORY}:{key}")
    return cached_image(PLATFORM_REPOSITORY, key, build)


def ensure_platform_image(force: bool = False) -> str:
    """The id of arena/platform:latest, building whatever of base, runtime and platform is missing."""
    base_id = ensure_base()
    runtime_id = ensure_runtime(base_id, force)
    log.info("%s:latest = %s", RUNTIME_REPOSITORY, runtime_id)
    return ensure_platform(runtime_id, force)


def _untag(tag: str) -> None:
    if image_id_for(tag) is not None:
        docker_client().images.remove(tag, noprune=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild the runtime and the platform image")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[images] %(message)s")
    try:
        log.info("%s:latest = %s", PLATFORM_REPOSITORY, ensure_platform_image(args.force))
    except (SandboxError, subprocess.CalledProcessError) as exc:
        print(f"[images] failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
