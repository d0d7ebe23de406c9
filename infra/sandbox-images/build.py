"""Build (or reuse) the sandbox images with no registry: base, torch and the baselines.

    arena/sandbox-base   a minimal Debian bookworm root (debootstrap) with python3 and
                         python3-numpy, imported with `docker import`
    arena/sandbox-torch  FROM the base, plus the CPU torch wheel and its dependencies,
                         installed offline from wheels put into the build context
    arena/sandbox-corrupt  FROM sandbox-torch, plus the `sandboxes.corruptions` package: the
                         platform's own corruption step (sandboxes.conditions)
    arena/baseline-<n>   each baseline model under sandboxes/baselines/, FROM sandbox-torch

Each image is tagged `<repository>:<recipe hash>` and `:latest`; an image whose hash tag exists
is reused, so a second run takes seconds. Needs root (debootstrap), a Docker engine and the
Debian mirror of /etc/apt/sources.list* (or ARENA_DEBIAN_MIRROR).

    python infra/sandbox-images/build.py [--only base|torch|corrupt|baselines] [--force]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sandboxes.baselines import build_all_baselines  # noqa: E402
from sandboxes.baselines.demo_data import write_demo_training_sets  # noqa: E402
from sandboxes.building import (  # noqa: E402
    build_dockerfile,
    cached_image,
    image_id_for,
    recipe_hash,
)
from sandboxes.conditions.image import build_corrupt_image  # noqa: E402
from sandboxes.engine import docker_client  # noqa: E402
from sandboxes.errors import SandboxError  # noqa: E402

log = logging.getLogger("sandbox-images")

BASE_REPOSITORY = "arena/sandbox-base"
TORCH_REPOSITORY = "arena/sandbox-torch"

# Everything that decides the content of the base image; its hash is the image tag.
BASE_RECIPE: dict[str, object] = {
    "suite": "bookworm",
    "variant": "minbase",
    "packages": ["python3", "python3-numpy"],
    # Removed from the root before import: package caches, docs, manuals, translations.
    "prune": [
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/info",
        "usr/share/locale",
        "var/log",
    ],
    "strip_setuid": True,
    "changes": [
        "ENV LANG=C.UTF-8",
        "ENV PYTHONDONTWRITEBYTECODE=1",
        "ENV PYTHONUNBUFFERED=1",
        "WORKDIR /",
        'CMD ["python3"]',
    ],
}

TORCH_CONTEXT = HERE / "torch"
TORCH_WHEELS_DIR = Path(os.environ.get("ARENA_WHEELS_DIR", "/opt/wheels"))
PIP_VERSION = "26.2.1"
BUILD_ROOT = Path(os.environ.get("ARENA_IMAGE_BUILD_DIR", "/var/tmp"))


# --- base ------------------------------------------------------------------------------------


def debian_mirror() -> str:
    """The Debian mirror: ARENA_DEBIAN_MIRROR, else the first `debian` URI apt is configured
    with (deb822 .sources files or one-line sources.list entries)."""
    if os.environ.get("ARENA_DEBIAN_MIRROR"):
        return os.environ["ARENA_DEBIAN_MIRROR"]
    candidates = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    candidates += [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]
    pattern = re.compile(r"^(?:URIs:|deb)\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?(?:\s|$)", re.M)
    for source in candidates:
        if source.is_file():
            match = pattern.search(source.read_text(encoding="utf-8", errors="replace"))
            if match:
                return match.group(1)
    return "http://deb.debian.org/debian"


def build_base(tag: str) -> None:
    """debootstrap the base root, prune it and `docker import` it as `tag`."""
    repository, _, key = tag.partition(":")
    with tempfile.TemporaryDirectory(prefix="arena-base-", dir=BUILD_ROOT) as workdir:
        root = Path(workdir) / "root"
        mirror = debian_mirror()
        log.info("debootstrap %s from %s", BASE_RECIPE["suite"], mirror)
        subprocess.run(
            [
                "debootstrap",
                f"--variant={BASE_RECIPE['variant']}",
                "--include=" + ",".join(BASE_RECIPE["packages"]),  # type: ignore[arg-type]
                str(BASE_RECIPE["suite"]),
                str(root),
                mirror,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for relative in BASE_RECIPE["prune"]:  # type: ignore[union-attr]
            folder = root / str(relative)
            if folder.is_dir():
                shutil.rmtree(folder)
                folder.mkdir(mode=0o755)
        if BASE_RECIPE["strip_setuid"]:
            subprocess.run(
                ["find", str(root), "-xdev", "-type", "f", "-perm", "/6000",
                 "-exec", "chmod", "ug-s", "{}", "+"],
                check=True,
            )
        archive = Path(workdir) / "root.tar"
        subprocess.run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(archive), "."],
            check=True,
        )
        log.info("importing %s (%d MB)", tag, archive.stat().st_size // 2**20)
        result = docker_client().api.import_image(
            src=str(archive), repository=repository, tag=key,
            changes=list(BASE_RECIPE["changes"]),  # type: ignore[call-overload]
        )
        if "error" in str(result).lower():
            raise SandboxError(f"docker import of {tag} failed: {result}")


def ensure_base(force: bool = False) -> str:
    key = recipe_hash(json.dumps(BASE_RECIPE, sort_keys=True))
    if force:
        _untag(f"{BASE_REPOSITORY}:{key}")
    return cached_image(BASE_REPOSITORY, key, build_base)


# --- torch -----------------------------------------------------------------------------------


def _download_wheels(dest: Path, requirements: Path) -> None:
    """Fetch pip and every wheel of `requirements` for CPython 3.11 on x86-64 Linux into
    `dest`, with the package index pip is configured with (plus TORCH_WHEELS_DIR)."""
    find_links = ["--find-links", str(TORCH_WHEELS_DIR)] if TORCH_WHEELS_DIR.is_dir() else []
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
            "--abi", "cp311", *[arg for p in platforms for arg in ("--platform", p)],
            *find_links, "--dest", str(dest), "-r", str(requirements), f"pip=={PIP_VERSION}",
        ],
        check=True,
    )


def ensure_torch(base_id: str, force: bool = False) -> str:
    dockerfile = (TORCH_CONTEXT / "Dockerfile").read_text(encoding="utf-8")
    requirements = (TORCH_CONTEXT / "requirements.txt").read_text(encoding="utf-8")
    key = recipe_hash(dockerfile, requirements, PIP_VERSION, base_id)

    def build(tag: str) -> None:
        with tempfile.TemporaryDirectory(prefix="arena-torch-", dir=BUILD_ROOT) as workdir:
            context = Path(workdir)
            shutil.copy(TORCH_CONTEXT / "Dockerfile", context / "Dockerfile")
            wheels = context / "wheels"
            wheels.mkdir()
            shutil.copy(TORCH_CONTEXT / "requirements.txt", wheels / "requirements.txt")
            _download_wheels(wheels, TORCH_CONTEXT / "requirements.txt")
            build_dockerfile(context, tag, buildargs={"BASE_IMAGE": base_id})

    if force:
        _untag(f"{TORCH_REPOSITORY}:{key}")
    return cached_image(TORCH_REPOSITORY, key, build)


def _untag(tag: str) -> None:
    if image_id_for(tag) is not None:
        docker_client().images.remove(tag, noprune=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["base", "torch", "corrupt", "baselines"],
                        help="stop after this image (its parents are built or reused first)")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[images] %(message)s")
    try:
        base_id = ensure_base(args.force)
        log.info("%s:latest = %s", BASE_REPOSITORY, base_id)
        if args.only == "base":
            return 0
        torch_id = ensure_torch(base_id, args.force)
        log.info("%s:latest = %s", TORCH_REPOSITORY, torch_id)
        if args.only == "torch":
            return 0
        log.info("arena/sandbox-corrupt:latest = %s", build_corrupt_image(force=args.force))
        if args.only == "corrupt":
            return 0
        with tempfile.TemporaryDirectory(prefix="baseline-train-") as folder:
            # Baselines that train at build time train on the demo's training set.
            train_data = write_demo_training_sets(Path(folder))
            for name, image_id in build_all_baselines(train_data=train_data, force=args.force).items():
                log.info("arena/baseline-%s:latest = %s", name, image_id)
    except (SandboxError, subprocess.CalledProcessError) as exc:
        print(f"[images] failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
