"""Command line: write the corrupted copy of a folder of clean inputs.

    python -m sandboxes.corruptions apply --condition "noise:white@5db+blur:2" --seed 7 \\
        --input /clean --output /corrupted [--noise-bank a.wav b.wav] [--device cpu]

Exit status 2 with the parser's message when the condition is wrong.
"""

from __future__ import annotations

import argparse
import sys

from .spec import ConditionError, parse_condition


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.corruptions")
    commands = parser.add_subparsers(dest="command", required=True)
    apply = commands.add_parser("apply", help="corrupt a folder of clean inputs")
    apply.add_argument("--condition", required=True, help='e.g. "noise:white@5db+blur:2"')
    apply.add_argument("--seed", required=True, type=int)
    apply.add_argument("--input", required=True, help="folder of clean inputs (<key>.wav, <key>/*.png)")
    apply.add_argument("--output", required=True, help="empty or new folder for the corrupted copy")
    apply.add_argument("--noise-bank", nargs="*", default=[], help="WAV files for noise:bank")
    apply.add_argument("--device", default="cpu", help="cpu or cuda[:n]")
    apply.add_argument("--threads", type=int, default=1,
                       help="torch CPU threads (1 keeps float sums in one order, run after run)")
    args = parser.parse_args(argv)
    try:
        condition = parse_condition(args.condition, noise_bank=args.noise_bank)
    except ConditionError as exc:
        apply.error(str(exc))
    import torch

    from .apply import apply_folder

    torch.set_num_threads(args.threads)
    count = apply_folder(condition, seed=args.seed, input_dir=args.input, output_dir=args.output,
                         device=args.device)
    print(f"{condition.name}: {count} clips written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
