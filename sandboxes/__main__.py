"""`python -m sandboxes doctor [--gpu] [--json]`: check that this host can run sandboxes."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes")
    commands = parser.add_subparsers(dest="command", required=True)
    doctor = commands.add_parser(
        "doctor", help="check the engine, images, a locked-down run and GPU settings of this worker host")
    doctor.add_argument("--gpu", action="store_true",
                        help="also check that sandboxes get a GPU and corruptions run on it")
    doctor.add_argument("--json", action="store_true", help="one JSON document on stdout")
    doctor.add_argument("--torch-image", default=None,
                        help="the torch image of the GPU checks (default arena/sandbox-torch:latest)")
    args = parser.parse_args(argv)

    from sandboxes.doctor import TORCH_IMAGE, report, run_checks

    checks = run_checks(gpu=args.gpu, torch_image=args.torch_image or TORCH_IMAGE)
    print(report(checks, as_json=args.json))
    return 0 if all(check.ok for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
