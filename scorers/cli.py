"""Command line: ``python -m scorers score|validate|list``.

Exit status: 0 on success, 1 when a file, an option or the assets are not acceptable, 2 for a
usage error (unknown command, track or argument), 3 for an unexpected failure. Every error is one
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from scorers.base import TrackScorer, to_plain
from scorers.errors import OptionError, ScorerError, one_line
from scorers.registry import all_scorers, get_scorer

__all__ = ["main"]

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see: python -m scorers {self._sub_name()}--help)")

    def _sub_name(self) -> str:
        parts = self.prog.split()
        return f"{parts[-1]} " if len(parts) > 1 and parts[-1] != "scorers" else ""


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m scorers", description="Score MER and ABAW submissions.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    score = commands.add_parser("score", help="score a prediction file against a reference file")
    score.add_argument("--track", required=True, help="scorer key, e.g. abaw.va")
    score.add_argument("--gold", required=True, help="reference file")
    score.add_argument("--pred", required=True, help="prediction file")
    score.add_argument("--assets", help="track assets folder (e.g. an emotion wheel)")
    score.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE", help="track option; repeat for several"
    )
    score.add_argument("--json", action="store_true", help="print one JSON object")

    validate = commands.add_parser("validate", help="check a prediction file without scoring")
    validate.add_argument("--track", required=True, help="scorer key, e.g. abaw.va")
    validate.add_argument("--pred", required=True, help="prediction file")
    validate.add_argument(
        "--gold", action="append", default=[], help="reference file(s) whose keys the prediction must cover"
    )
    validate.add_argument("--assets", help="track assets folder")
    validate.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    validate.add_argument("--json", action="store_true", help="print one JSON object")

    listing = commands.add_parser("list", help="list the tracks, their formats and options")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    return parser


def _options(pairs: Sequence[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise _UsageError(f"--option expects NAME=VALUE, got {pair!r}")
        options[name.strip()] = value
    return options


def _scorer(key: str) -> TrackScorer:
    try:
        return get_scorer(key)
    except OptionError as error:
        raise _UsageError(str(error)) from None


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` so that the output is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_finite(to_plain(value)), ensure_ascii=False))


def _describe(scorer: TrackScorer) -> dict[str, Any]:
    return {
        "key": scorer.key,
        "title": scorer.title,
        "description": scorer.description,
        "greater_is_better": scorer.greater_is_better,
        "primary_metric": scorer.primary_metric,
        "metric_names": list(scorer.metric_names),
        "metric_directions": {name: scorer.metric_direction(name) for name in scorer.metric_names},
        "key_column": scorer.key_column,
        "pred_header": list(scorer.pred_header) if scorer.pred_header else None,
        "gold_header": list(scorer.gold_header) if scorer.gold_header else None,
        "pred_format": scorer.pred_format,
        "needs_assets": scorer.needs_assets,
        "allows_extra_keys": scorer.allows_extra_keys,
        "options": [
            {
                "name": option.name,
                "kind": option.kind,
                "default": to_plain(option.default),
                "help": option.help,
                "choices": list(option.choices),
                "minimum": option.minimum,
            }
            for option in scorer.options
        ],
    }


def _run_list(args: argparse.Namespace) -> None:
    scorers = all_scorers()
    if args.json:
        _print_json([_describe(scorer) for scorer in scorers])
        return
    for scorer in scorers:
        print(f"{scorer.key} — {scorer.title}")
        print(f"    format: {scorer.pred_format}")
        metrics = ", ".join(f"{name} ({scorer.metric_direction(name)} is better)" for name in scorer.metric_names)
        print(f"    metrics: {metrics}")
        if scorer.needs_assets:
            print("    needs: --assets DIR")
        for option in scorer.options:
            default = option.default
            if isinstance(default, tuple):
                default = ",".join(default)
            print(f"    --option {option.name}=... ({option.describe()}; default {default}): {option.help}")


def _run_score(args: argparse.Namespace) -> None:
    scorer = _scorer(args.track)
    result = scorer.score(gold=args.gold, pred=args.pred, options=_options(args.option), assets=args.assets)
    if args.json:
        _print_json(result.to_json())
        return
    print(f"score: {result.score!r} ({scorer.primary_metric})")
    for name, value in result.metrics.items():
        if name != scorer.primary_metric:
            print(f"{name}: {value!r}")
    interval = result.breakdown.get("bootstrap")
    if isinstance(interval, dict):
        print(
            f"95% bootstrap interval: [{interval['low']!r}, {interval['high']!r}] "
            f"({interval['resamples']} resamples, seed {interval['seed']})"
        )


def _run_validate(args: argparse.Namespace) -> None:
    scorer = _scorer(args.track)
    options = _options(args.option)
    if scorer.needs_assets and args.assets is not None:
        scorer.validate_assets(args.assets, scorer.validate_options(options))
    rows = scorer.validate(args.pred, golds=args.gold, options=options, assets=args.assets)
    if args.json:
        _print_json({"valid": True, "rows": rows})
    else:
        print(f"ok: {rows} prediction rows")


def _fail(message: str, status: int) -> int:
    print(f"error: {one_line(message)}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        args = _build_parser().parse_args(argv)
        {"list": _run_list, "score": _run_score, "validate": _run_validate}[args.command](args)
    except _UsageError as error:
        return _fail(str(error), EXIT_USAGE)
    except ScorerError as error:
        return _fail(str(error), EXIT_INVALID)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERNAL)
    except MemoryError:
        return _fail("out of memory while scoring", EXIT_INTERNAL)
    except Exception as error:  # the CLI promises one line and never a traceback
        return _fail(f"unexpected {type(error).__name__}: {error}", EXIT_INTERNAL)
    return 0
