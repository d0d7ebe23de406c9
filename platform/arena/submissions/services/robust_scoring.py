"""Scoring a submission per condition of its phase's robustness protocol, and forming each split's score
from the conditions' scores (``arena.challenges.robustness.summarise``).

Two ways in: a containerised model ran once per condition and the worker stored a ZIP of
``<condition>.csv`` files and ``failures.json`` (``unpack_condition_predictions`` then
``score_condition_files``); or one uploaded prediction file is scored per condition on the keys the
phase's condition map assigns to it (``score_condition_groups``). Both end in ``combine_conditions``,
which is pure.

Each split's payload::

    {"score": summary of the primary scores, "metrics": {metric: summary of that metric},
     "breakdown": {...the clean condition's breakdown..., "robustness": {"summary": "mean",
                   "curves": {family: [[severity, score], ...]}}},
     "conditions": [{"name", "condition", "family", "severity", "score", "metrics"}, ...]}

A failed condition is listed with ``"score": None, "metrics": {}, "error": message``.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import scorers
from arena.challenges.condition_maps import ConditionMapError
from arena.challenges.robustness import Protocol, curves, summarise
from scorers.base import ScoreResult, TrackScorer, to_plain
from scorers.errors import one_line

__all__ = [
    "FAILURES_MEMBER",
    "ConditionPredictions",
    "PredictionsArchiveError",
    "RobustOutcome",
    "combine_conditions",
    "missing_predictions_message",
    "score_condition_files",
    "score_condition_groups",
    "unpack_condition_predictions",
]

FAILURES_MEMBER = "failures.json"
#: The worker writes one file per condition and failures.json; anything far beyond is not its archive.
MAX_MEMBERS = 64
MAX_FAILURES_BYTES = 64 * 1024
#: A failure message from the worker is shown to the team: one line, at most this long.
MAX_ERROR_CHARS = 500
_CHUNK = 1 << 20
_MB = 1 << 20


class PredictionsArchiveError(Exception):
    """The archive of per-condition predictions that the worker stored cannot be read: the platform's
    fault, not the team's."""


@dataclass(frozen=True)
class ConditionPredictions:
    """What a model wrote under each condition: its prediction file on disk, or why it has none."""

    files: dict[str, Path] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RobustOutcome:
    """Each split's payload (see the module docstring); ``failure``, when set, fails the whole submission
    with that message for the team instead."""

    payloads: dict[str, dict]
    failure: str | None = None


def missing_predictions_message(names: Sequence[str]) -> str:
    """``Your model wrote no predictions for condition X.``, naming every condition in ``names``."""
    if len(names) == 1:
        return f"Your model wrote no predictions for condition {names[0]}."
    return f"Your model wrote no predictions for conditions {', '.join(names[:-1])} and {names[-1]}."


def _short(message: str) -> str:
    text = one_line(message)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


# -- the container archive -------------------------------------------------------------------------


def unpack_condition_predictions(archive: Path, *, protocol: Protocol, dest: Path, max_mb: int) -> ConditionPredictions:
    """Read the worker's ``predictions.zip`` at ``archive``: each protocol condition's CSV is copied to a file
    of ours in ``dest`` (at most ``max_mb`` MB each, however large the archive says it is), and
    ``failures.json`` gives the conditions whose run failed. A condition with neither fails with
    ``missing_predictions_message``; a CSV over the limit fails its condition. Member names are only ever
    looked up, never used as paths. Raises PredictionsArchiveError for an archive the worker cannot have
    written (damaged, too many members, a name twice, a malformed failures.json)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = zipped.infolist()
            if len(infos) > MAX_MEMBERS:
                raise PredictionsArchiveError(f"the archive holds {len(infos)} members (at most {MAX_MEMBERS})")
            by_name: dict[str, zipfile.ZipInfo] = {}
            for info in infos:
                if info.filename in by_name:
                    raise PredictionsArchiveError(f"the archive holds {info.filename!r} twice")
                by_name[info.filename] = info
            failures = _failures(zipped, by_name.get(FAILURES_MEMBER), protocol)
            files: dict[str, Path] = {}
            limit = max_mb * _MB
            dest.mkdir(parents=True, exist_ok=True)
            for index, condition in enumerate(protocol.conditions):
                info = by_name.get(f"{condition.name}.csv")
                if condition.name in failures or info is None or info.is_dir():
                    continue
                target = dest / f"condition-{index}.csv"
                if not _copy_capped(zipped, info, target, limit):
                    failures[condition.name] = (f"Your model's predictions for condition {condition.name} are larger "
                                                f"than this track's limit of {max_mb} MB.")
                    target.unlink(missing_ok=True)
                    continue
                files[condition.name] = target
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise PredictionsArchiveError(f"the archive cannot be read: {exc}") from None
    missing = [c.name for c in protocol.conditions if c.name not in files and c.name not in failures]
    for name in missing:
        failures[name] = missing_predictions_message([name])
    return ConditionPredictions(files=files, failures={c.name: failures[c.name] for c in protocol.conditions
                                                       if c.name in failures})


def _failures(zipped: zipfile.ZipFile, info: zipfile.ZipInfo | None, protocol: Protocol) -> dict[str, str]:
    if info is None:
        return {}
    if info.file_size > MAX_FAILURES_BYTES:
        raise PredictionsArchiveError(f"{FAILURES_MEMBER} is larger than {MAX_FAILURES_BYTES} bytes")
    with zipped.open(info) as member:
        data = member.read(MAX_FAILURES_BYTES + 1)
    if len(data) > MAX_FAILURES_BYTES:
        raise PredictionsArchiveError(f"{FAILURES_MEMBER} is larger than {MAX_FAILURES_BYTES} bytes")
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PredictionsArchiveError(f"{FAILURES_MEMBER} is not JSON") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise PredictionsArchiveError(f"{FAILURES_MEMBER} is not an object of condition name to message")
    names = set(protocol.names)
    return {name: _short(message) or "The run failed." for name, message in parsed.items() if name in names}


def _copy_capped(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> bool:
    """Copy a member to ``target``; False (and a partial file) once it passes ``limit`` bytes: the declared
    size can lie, so the bytes are counted as they are read."""
    if info.file_size > limit:
        return False
    written = 0
    with zipped.open(info) as member, target.open("wb") as out:
        while chunk := member.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                return False
            out.write(chunk)
    return True


# -- scoring ----------------------------------------------------------------------------------------


def score_condition_files(
    *, scorer: TrackScorer, protocol: Protocol, golds: Mapping[str, Path], predictions: ConditionPredictions,
    options: Mapping[str, object] | None, assets: Path | None, candidates: Path | None,
) -> RobustOutcome:
    """Score each condition's prediction file on every split, then combine. A condition whose file does not
    parse fails with the scorer's message prefixed by its name; scorer errors about the references, options
    or assets propagate (the organisers' to fix)."""
    failures = dict(predictions.failures)
    results: dict[str, dict[str, ScoreResult]] = {}
    for condition in protocol.conditions:
        path = predictions.files.get(condition.name)
        if path is None:
            continue
        try:
            results[condition.name] = scorer.score_splits(golds=golds, pred=path, options=options, assets=assets,
                                                          candidates=candidates)
        except scorers.SubmissionFormatError as exc:
            if exc.file != "prediction":
                raise
            failures[condition.name] = f"{condition.name}: {exc}"
    return combine_conditions(protocol=protocol, results=results, failures=failures, splits=list(golds),
                              **_scale(scorer))


def score_condition_groups(
    *, scorer: TrackScorer, protocol: Protocol, golds: Mapping[str, Path], pred: Path,
    groups: Mapping[str, Sequence[str]], options: Mapping[str, object] | None, assets: Path | None,
    candidates: Path | None,
) -> RobustOutcome:
    """Score the one prediction file per condition of the condition map ``groups``, then combine. A file
    that does not parse fails the submission as usual (the scorer's error propagates); a condition
    without keys of a split raises ConditionMapError (the map was checked on save: the organisers')."""
    by_split = scorer.score_groups(golds=golds, pred=pred, groups=groups, options=options, assets=assets,
                                   candidates=candidates)
    results: dict[str, dict[str, ScoreResult]] = {}
    for split, per_condition in by_split.items():
        for condition in protocol.conditions:
            if condition.name not in per_condition:
                raise ConditionMapError(f"Condition {condition.name!r} has no key of the {split} reference.")
            results.setdefault(condition.name, {})[split] = per_condition[condition.name]
    return combine_conditions(protocol=protocol, results=results, failures={}, splits=list(golds),
                              **_scale(scorer))


# -- combining ---------------------------------------------------------------------------------------


def _finite(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _default_direction(metric: str) -> bool:
    return not (metric in {"mse", "mae", "rmse"} or metric.endswith("_error"))


def _scale(scorer: TrackScorer) -> dict[str, object]:
    """What ``combine_conditions`` needs to know of the scorer's scale."""
    return {"greater_is_better": scorer.greater_is_better, "worst_score": scorer.worst_score,
            "primary_metric": scorer.primary_metric, "metric_greater_is_better": scorer.metric_greater_is_better}


def combine_conditions(
    *, protocol: Protocol, results: Mapping[str, Mapping[str, ScoreResult]], failures: Mapping[str, str],
    splits: Sequence[str], greater_is_better: bool = True, worst_score: float | None = 0.0,
    primary_metric: str = "score", metric_greater_is_better: Callable[[str], bool] | None = None,
) -> RobustOutcome:
    """Each split's payload from the conditions' ``results`` (``{condition: {split: result}}``) and
    ``failures`` (``{condition: message}``). With ``on_failure: submission`` any failed condition fails the
    submission, and so does every condition failing; otherwise a failed condition counts as the scale's
    ``worst_score`` in the summary score and in the primary metric's; the other metrics of a split with a
    failed condition have no summary (None), as has anything that is not a finite number."""
    direction = metric_greater_is_better or _default_direction
    failed = [c.name for c in protocol.conditions if c.name in failures or c.name not in results]
    if failed and (protocol.on_failure == "submission" or len(failed) == len(protocol.conditions)):
        return RobustOutcome(payloads={}, failure=_failure_message(protocol, failed, failures))
    payloads = {}
    for split in splits:
        per = {c.name: results[c.name][split] for c in protocol.conditions
               if c.name not in failed and split in results[c.name]}
        scores: dict[str, float | None] = {name: per[name].score if name in per else None
                                           for name in protocol.names}
        metric_names: list[str] = []
        for result in per.values():
            metric_names += [name for name in result.metrics if name not in metric_names]
        metrics = {
            name: _finite(summarise(protocol, {c: (per[c].metrics.get(name) if c in per else None)
                                               for c in protocol.names},
                                    greater_is_better=direction(name),
                                    failed_value=worst_score if name == primary_metric else None))
            for name in metric_names
        }
        clean = next((c for c in protocol.conditions if c.is_clean and c.name in per), None)
        breakdown = dict(to_plain(per[clean.name].breakdown)) if clean is not None else {}
        breakdown["robustness"] = {
            "summary": protocol.summary,
            "curves": {family: [[severity, _finite(score)] for severity, score in points]
                       for family, points in curves(protocol, scores).items()},
        }
        conditions = []
        for c in protocol.conditions:
            entry: dict[str, object] = {"name": c.name, "condition": c.spec, "family": c.family,
                                        "severity": c.severity}
            if c.name in per:
                entry["score"] = _finite(per[c.name].score)
                entry["metrics"] = {k: _finite(v) for k, v in per[c.name].metrics.items()}
            else:
                entry.update(score=None, metrics={},
                             error=failures.get(c.name) or f"Condition {c.name} has no score on this split.")
            conditions.append(entry)
        payloads[split] = {
            "score": summarise(protocol, scores, greater_is_better=greater_is_better, failed_value=worst_score),
            "metrics": metrics, "breakdown": breakdown, "conditions": conditions,
        }
    return RobustOutcome(payloads=payloads)


def _failure_message(protocol: Protocol, failed: Sequence[str], failures: Mapping[str, str]) -> str:
    """One message naming every failed condition and why; conditions without predictions in one sentence."""
    if len(failed) == len(protocol.conditions):
        head = "Your model failed under every condition of this phase, so it has no score."
    else:
        head = (f"Your model failed under {len(failed)} of the {len(protocol.conditions)} conditions of this "
                "phase, which scores a submission only when every condition succeeds.")
    parts = [head]
    missing = [name for name in failed if failures.get(name, "") == missing_predictions_message([name])]
    for name in failed:
        if name in missing:
            continue
        message = failures.get(name) or "The run failed."
        if not message.startswith(f"{name}: "):
            message = f"{name}: {message}"
        parts.append(message if message.endswith((".", "!", "?")) else message + ".")
    if missing:
        parts.append(missing_predictions_message(missing))
    return " ".join(parts)
