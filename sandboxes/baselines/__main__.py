"""`python -m sandboxes.baselines build|save`: build baseline images, or save one to upload."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from sandboxes.baselines import (
    baseline_names,
    baseline_repository,
    build_baseline,
    save_baseline_archive,
)
from sandboxes.baselines.demo_data import write_demo_training_sets
from sandboxes.errors import SandboxError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.baselines")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build baseline images (all when none is named)")
    build.add_argument("names", nargs="*", metavar="NAME", help=", ".join(baseline_names()))
    build.add_argument("--force", action="store_true", help="rebuild even when cached")
    save = commands.add_parser("save", help="write a baseline as an uploadable image archive")
    save.add_argument("names", nargs=1, metavar="NAME", help=", ".join(baseline_names()))
    save.add_argument("archive", type=Path, help="the .tar (or .tar.gz with --gzip) to write")
    save.add_argument("--gzip", action="store_true", help="gzip the archive")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(baseline_names()))
    if unknown:
        parser.error(f"no baseline {', '.join(unknown)}; known: {', '.join(baseline_names())}")
    logging.basicConfig(level=logging.INFO, format="[baselines] %(message)s")
    names = args.names or baseline_names()
    try:
        with tempfile.TemporaryDirectory(prefix="baseline-train-") as folder:
            # Baselines that train at build time train on the demo's training set.
            train_data = write_demo_training_sets(Path(folder), names)
            if args.command == "save":
                image_id = save_baseline_archive(names[0], args.archive, compress=args.gzip,
                                                 train_data=train_data.get(names[0]))
                print(f"{args.archive} {image_id}")
                return 0
            for name in names:
                image_id = build_baseline(name, train_data=train_data.get(name), force=args.force)
                print(f"{baseline_repository(name)}:latest {image_id}")
    except SandboxError as exc:
        print(f"failed: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
