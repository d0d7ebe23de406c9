"""The track-scorer contract: options, results and the abstract ``TrackScorer``.

A track scorer turns a reference ("gold") file and a prediction file into a ``ScoreResult``. The
base class owns everything that is the same for every track: option validation, reading sources,
the key rule (which prediction keys must exist), aligning predictions to gold rows, splits and the
bootstrap interval. A concrete track supplies ``parse_file`` (bytes -> ``Table``) and ``compute``
(aligned tables -> ``ScoreResult``), and optionally ``load_assets`` and ``resampling``.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from scorers.cache import content_digest, gold_cache
from scorers.candidates import check_against_candidates, check_golds_are_candidates, read_candidates
from scorers.errors import AssetError, OptionError, SubmissionFormatError, quote_cell
from scorers.parsing.keys import check_unique_keys, key_index, locate_keys
from scorers.parsing.source import Text, read_source
from scorers.parsing.table import Table
from scorers.stats import Resampling, bootstrap_interval

__all__ = [
    "Option",
    "ScoreResult",
    "TrackScorer",
    "Source",
    "BOOTSTRAP_OPTIONS",
    "expected_rows_option",
    "to_plain",
]

Source = str | os.PathLike | bytes
OptionKind = Literal["str", "int", "float", "bool", "choice", "str_list"]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


# References at least this large are parsed in a thread of their own (see _read_together).
_CONCURRENT_READ_BYTES = 4 << 20


def _size(source: Source) -> int:
    """The size of ``source`` in bytes, 0 when it cannot be known (reading it will say why)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source)
    try:
        return os.stat(source).st_size
    except (OSError, TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class Option:
    """One declared option of a track: its name, type, default and the help a user reads.

    ``choices`` lists the allowed values of a ``choice`` option; ``minimum`` is the smallest allowed
    value of an ``int`` or ``float`` option (``None``: unbounded).
    """

    name: str
    kind: OptionKind
    default: object
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None

    def describe(self) -> str:
        """A short type description used in messages and in ``scorers list``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "str_list":
            return "a comma-separated list"
        if self.kind == "bool":
            return "true or false"
        if self.kind in ("int", "float") and self.minimum is not None:
            bound = int(self.minimum) if self.kind == "int" else self.minimum
            return f"{'an integer' if self.kind == 'int' else 'a number'} >= {bound}"
        return {"int": "an integer", "float": "a number", "str": "text"}[self.kind]

    def convert(self, value: object) -> object:
        """Return ``value`` as this option's type (strings as the CLI passes them are accepted).

        Raises ``OptionError`` naming the option and the allowed values.
        """
        try:
            converted = self._convert(value)
        except (TypeError, ValueError):
            raise OptionError(f"option '{self.name}' must be {self.describe()}, got {value!r}") from None
        if self.minimum is not None and converted < self.minimum:  # type: ignore[operator]
            raise OptionError(f"option '{self.name}' must be {self.describe()}, got {value!r}")
        return converted

    def _convert(self, value: object) -> object:
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        if kind == "int":
            if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore[arg-type]
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)  # type: ignore[arg-type]
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if kind == "choice":
            text = str(value).strip()
            if text not in self.choices:
                raise ValueError(value)
            return text
        if kind == "str_list":
            items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
            cleaned = tuple(str(item).strip() for item in items)
            if not cleaned or any(not item for item in cleaned) or len(set(cleaned)) != len(cleaned):
                raise ValueError(value)
            return cleaned
        if not isinstance(value, str):
            raise TypeError(value)
        return value


BOOTSTRAP_OPTIONS: tuple[Option, ...] = (
    Option(
        "bootstrap",
        "int",
        0,
        "number of bootstrap resamples for a 95% confidence interval of the score (0 = off)",
        minimum=0,
    ),
    Option("seed", "int", 0, "random seed of the bootstrap resampling"),
)


def expected_rows_option() -> Option:
    """The ``expected_rows`` option of candidate-pool tracks (0 = any number of rows)."""
    return Option(
        "expected_rows",
        "int",
        0,
        "exact number of rows the prediction must hold, e.g. the whole candidate pool (0 = any)",
        minimum=0,
    )


def to_plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into plain Python floats, ints and lists."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


@dataclass
class ScoreResult:
    """The primary ``score``, every named metric (primary included) and an optional breakdown.

    ``resampling``: the score as a function of per-sample weights, kept when ``score_splits`` is asked
    for it (``with_resampling``) for paired statistics across submissions; never part of ``to_json``.
    """

    score: float
    metrics: dict[str, float]
    breakdown: dict[str, object] = field(default_factory=dict)
    resampling: Resampling | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        """``{"score": ..., "metrics": ..., "breakdown": ...}`` with plain floats and lists only."""
        return {
            "score": float(self.score),
            "metrics": {name: float(value) for name, value in self.metrics.items()},
            "breakdown": to_plain(self.breakdown),
        }


class TrackScorer(ABC):
    """Scores one track: see the module docstring for what a subclass provides."""

    key: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    greater_is_better: ClassVar[bool] = True
    #: The score of a perfect prediction (the reference scored against itself); None: 1.0 when greater is
    #: better, else 0.0. Tracks whose score sums measures declare theirs.
    best_score: ClassVar[float | None] = None
    #: The lowest score any prediction can get (greater is better), e.g. 0 for an F1 and -1 for a CCC; None
    #: when the scale has no floor (an unbounded error term). A robustness protocol scores a failed condition
    #: at this value, so a track without one must fail the whole submission instead.
    worst_score: ClassVar[float | None] = None
    primary_metric: ClassVar[str]
    metric_names: ClassVar[tuple[str, ...]]
    key_column: ClassVar[str]
    pred_header: ClassVar[tuple[str, ...] | None]
    gold_header: ClassVar[tuple[str, ...] | None]
    pred_format: ClassVar[str]
    needs_assets: ClassVar[bool] = False
    allows_extra_keys: ClassVar[bool] = False
    options: ClassVar[tuple[Option, ...]] = BOOTSTRAP_OPTIONS

    # -- hooks a track implements -------------------------------------------------------------

    @abstractmethod
    def parse_file(self, data: Text, *, file: str, options: Mapping[str, object]) -> Table:
        """Parse one file's raw bytes strictly (``bytes``, or a read-only map of a large file: see
        ``read_source``). ``file`` is ``"prediction"`` or ``"gold"``.

        Raises ``SubmissionFormatError`` (with that ``file``) for anything that cannot be scored.
        Key uniqueness and the key rule are checked by the base class afterwards.
        """

    @abstractmethod
    def compute(self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object) -> ScoreResult:
        """Score ``pred`` against ``gold``; row ``i`` of ``pred`` is the prediction for gold row
        ``i``. ``assets`` is what ``load_assets`` returned."""

    def load_assets(self, assets_dir: Path | None, options: Mapping[str, object]) -> object:
        """Load what ``compute`` needs from the assets folder (default: nothing)."""
        self.validate_assets(assets_dir, options)
        return None

    def resampling(
        self, gold: Table, pred: Table, *, options: Mapping[str, object], assets: object
    ) -> Resampling | None:
        """The primary score as a function of resampling weights, for the bootstrap interval.

        ``None`` (the default) means the track offers no bootstrap interval.
        """
        return None

    # -- public API -----------------------------------------------------------------------------

    def metric_greater_is_better(self, metric: str) -> bool:
        """Whether a larger value of ``metric`` is better: the primary metric follows
        ``greater_is_better``; errors (``mse``, ``mae``, ``rmse``, ``*_error``) are lower-is-better;
        every other metric is higher-is-better. A track with other metrics overrides this."""
        if metric in (self.primary_metric, "score"):
            return self.greater_is_better
        return not (metric in {"mse", "mae", "rmse"} or metric.endswith("_error"))

    def metric_direction(self, metric: str) -> str:
        """``"higher"`` or ``"lower"``: which values of ``metric`` are better."""
        return "higher" if self.metric_greater_is_better(metric) else "lower"

    def validate_options(self, options: Mapping[str, object] | None) -> dict[str, object]:
        """The full, typed option dict: declared defaults, overridden by ``options``.

        Raises ``OptionError`` for an unknown name, a wrong type or a value outside the choices.
        """
        declared = {option.name: option for option in self.options}
        result = {option.name: option.default for option in self.options}
        for name, value in (options or {}).items():
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise OptionError(f"unknown option '{name}' for track '{self.key}'; known options: {known}")
            result[name] = declared[name].convert(value)
        return result

    def validate_assets(self, assets_dir: Path | None, options: Mapping[str, object]) -> None:
        """Raise ``AssetError`` when the track needs assets and ``assets_dir`` is not a folder."""
        if not self.needs_assets:
            return
        if assets_dir is None:
            raise AssetError(
                f"track '{self.key}' needs an assets folder and none was given (command line: --assets DIR)"
            )
        if not Path(assets_dir).is_dir():
            raise AssetError(f"assets folder '{assets_dir}' does not exist or is not a folder")

    def validate(
        self,
        pred: Source,
        *,
        golds: Sequence[Source] = (),
        options: Mapping[str, object] | None = None,
        assets: Path | str | None = None,
        candidates: Source | None = None,
    ) -> int:
        """Parse ``pred`` strictly and check its keys: against the published ``candidates`` when
        given (never against the references then, so nothing depends on which candidates are test
        keys), else against the union of the ``golds``' keys. Returns the number of prediction rows."""
        opts = self.validate_options(options)
        pred_table = self._read(pred, "prediction", opts)
        if candidates is not None:
            check_against_candidates(pred_table, read_candidates(candidates, key_column=self.key_column),
                                     key_column=self.key_column)
            return len(pred_table)
        gold_tables = [self._read(gold, "gold", opts) for gold in golds]
        if gold_tables:
            self._check_key_rule(pred_table, gold_tables)
        return len(pred_table)

    def check_references(
        self,
        golds: Sequence[Source],
        *,
        options: Mapping[str, object] | None = None,
        candidates: Source | None = None,
    ) -> None:
        """Parse reference files as scoring reads them and, with a published candidate list, check that
        it covers every reference key. Raises ``SubmissionFormatError`` (file ``"gold"`` or
        ``"candidates"``) or ``OptionError``: what an organiser must fix before a phase opens."""
        opts = self.validate_options(options)
        tables = [self._read(gold, "gold", opts) for gold in golds]
        if candidates is not None:
            check_golds_are_candidates(tables, read_candidates(candidates, key_column=self.key_column))

    def score(
        self,
        *,
        gold: Source,
        pred: Source,
        options: Mapping[str, object] | None = None,
        assets: Path | str | None = None,
    ) -> ScoreResult:
        """Score one prediction against one reference file."""
        return self.score_splits(golds={"all": gold}, pred=pred, options=options, assets=assets)["all"]

    def score_splits(
        self,
        *,
        golds: Mapping[str, Source],
        pred: Source,
        options: Mapping[str, object] | None = None,
        assets: Path | str | None = None,
        candidates: Source | None = None,
        with_resampling: bool = False,
    ) -> dict[str, ScoreResult]:
        """Parse ``pred`` once, check its keys (against the published ``candidates`` when given,
        see ``validate``), then score each split on its own gold keys only. ``with_resampling``: keep
        each split's ``resampling`` (per sample, see ``Resampling.sample_groups``) on its result."""
        opts = self.validate_options(options)
        loaded = self.load_assets(Path(assets) if assets is not None else None, opts)
        pred_table, gold_tables = self._read_together(pred, golds, opts)
        if candidates is not None:
            pool = read_candidates(candidates, key_column=self.key_column)
            check_golds_are_candidates(list(gold_tables.values()), pool)
            check_against_candidates(pred_table, pool, key_column=self.key_column)
        union_found = self._check_key_rule(pred_table, list(gold_tables.values()))
        results = {}
        for name, gold_table in gold_tables.items():
            found = union_found if len(gold_tables) == 1 else locate_keys(pred_table.key_index, gold_table.key_index)
            aligned = pred_table.take(found, keys=gold_table.keys)
            results[name] = self._compute_with_interval(gold_table, aligned, opts, loaded)
            if with_resampling:
                results[name].resampling = self.resampling(gold_table, aligned, options=opts, assets=loaded)
        return results

    def score_groups(
        self,
        *,
        golds: Mapping[str, Source],
        pred: Source,
        groups: Mapping[str, Sequence[str]],
        options: Mapping[str, object] | None = None,
        assets: Path | str | None = None,
        candidates: Source | None = None,
    ) -> dict[str, dict[str, ScoreResult]]:
        """Like ``score_splits``, but each split is scored once per group of keys (e.g. the keys
        of each robustness condition): ``{split: {group: result}}``. Parses ``pred`` and the golds
        once and checks the key rule on the whole files; each split is scored on the gold keys of
        the group it holds, in the reference's row order, so the result equals scoring the split's
        rows of that group as files of their own. A group holding no key of a split is left out
        of that split's results; keys of a group found in no reference are ignored."""
        opts = self.validate_options(options)
        loaded = self.load_assets(Path(assets) if assets is not None else None, opts)
        pred_table, gold_tables = self._read_together(pred, golds, opts)
        if candidates is not None:
            pool = read_candidates(candidates, key_column=self.key_column)
            check_golds_are_candidates(list(gold_tables.values()), pool)
            check_against_candidates(pred_table, pool, key_column=self.key_column)
        self._check_key_rule(pred_table, list(gold_tables.values()))
        wanted = {group: key_index(np.array([key.encode("utf-8") for key in keys], dtype=np.bytes_))
                  for group, keys in groups.items()}
        results: dict[str, dict[str, ScoreResult]] = {}
        for name, gold_table in gold_tables.items():
            results[name] = {}
            for group, index in wanted.items():
                rows = locate_keys(gold_table.key_index, index, missing_ok=True)
                rows = np.unique(rows[rows >= 0])  # in the reference's order, each row once
                if rows.size == 0:
                    continue
                gold_part = gold_table.take(rows)
                aligned = pred_table.take(locate_keys(pred_table.key_index, gold_part.key_index), keys=gold_part.keys)
                results[name][group] = self._compute_with_interval(gold_part, aligned, opts, loaded)
        return results

    def _compute_with_interval(
        self, gold: Table, aligned: Table, options: Mapping[str, object], assets: object
    ) -> ScoreResult:
        """``compute``, plus the bootstrap interval in the breakdown when the options ask for one."""
        result = self.compute(gold, aligned, options=options, assets=assets)
        resamples = int(options.get("bootstrap", 0))  # type: ignore[call-overload]
        if resamples > 0:
            parts = self.resampling(gold, aligned, options=options, assets=assets)
            if parts is not None:
                seed = int(options.get("seed", 0))  # type: ignore[call-overload]
                result.breakdown["bootstrap"] = bootstrap_interval(parts, resamples=resamples, seed=seed)
        return result

    # -- shared machinery ---------------------------------------------------------------------

    def _read_together(
        self, pred: Source, golds: Mapping[str, Source], options: Mapping[str, object]
    ) -> tuple[Table, dict[str, Table]]:
        """The parsed prediction and references. Large references are read in a second thread
        while this one reads the prediction: the costly steps (numpy on large arrays, hashing,
        file reads) release the interpreter lock, so two cores parse two files at once. Errors
        are raised as reading one file after the other would: the prediction's first."""
        if sum(_size(src) for src in golds.values()) < _CONCURRENT_READ_BYTES:
            pred_table = self._read(pred, "prediction", options)
            return pred_table, {name: self._read(src, "gold", options) for name, src in golds.items()}
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = {name: pool.submit(self._read, src, "gold", options) for name, src in golds.items()}
            try:
                pred_table = self._read(pred, "prediction", options)
            except BaseException:
                for future in pending.values():
                    future.cancel()
                raise
            return pred_table, {name: future.result() for name, future in pending.items()}

    def _read(self, source: Source, file: str, options: Mapping[str, object]) -> Table:
        data = read_source(source, file=file)
        if file == "gold":
            # Only options that can change parsing belong in the key; the bootstrap ones cannot.
            settings = tuple(sorted((k, repr(v)) for k, v in options.items() if k not in ("bootstrap", "seed")))
            key = (type(self).__qualname__, self.key, settings, content_digest(data))
            return gold_cache.get_or_parse(key, lambda: self._parse_checked(data, file, options))
        return self._parse_checked(data, file, options)

    def _parse_checked(self, data: bytes, file: str, options: Mapping[str, object]) -> Table:
        table = self.parse_file(data, file=file, options=options)
        check_unique_keys(table, column=self.key_column)
        expected = int(options.get("expected_rows", 0))  # type: ignore[call-overload]
        if file == "prediction" and expected and len(table) != expected:
            raise SubmissionFormatError(
                f"the file holds {len(table)} rows but the track expects {expected}; write one row for every candidate",
                file=file,
            )
        return table

    def _check_key_rule(self, pred: Table, golds: Sequence[Table]) -> np.ndarray:
        """Check the key rule against the union of the golds' keys; returns, for each union key,
        its prediction row."""
        if len(golds) == 1:
            union = golds[0].key_index
        else:
            union = key_index(np.unique(np.concatenate([g.keys for g in golds])))
        found = locate_keys(pred.key_index, union, missing_ok=True)
        missing = np.flatnonzero(found < 0)
        if missing.size:
            first = union.keys[missing[0]].decode("utf-8")
            every = "candidate" if self.allows_extra_keys else "test sample"
            raise SubmissionFormatError(
                f"no row for {self.key_column} {quote_cell(first)} ({missing.size} of {len(union.keys)} "
                f"test keys have no row); write one row for every {every}",
                file=pred.file,
                column=self.key_column,
            )
        if not self.allows_extra_keys and len(pred) != len(union.keys):
            used = np.zeros(len(pred), dtype=bool)
            used[found] = True
            extra = int(np.flatnonzero(~used)[0])
            raise SubmissionFormatError(
                f"{quote_cell(pred.key_text(extra))} is not in the test set; write rows for the test samples only",
                file=pred.file,
                row=int(pred.lines[extra]),
                column=self.key_column,
            )
        return found
