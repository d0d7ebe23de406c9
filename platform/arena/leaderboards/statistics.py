"""How sure a board is of its order: paired bootstrap statistics of a board's entries (numpy only).

Every entry of a phase split was scored under the same ``R`` resamples of the reference samples
(``scorers.stats.paired_resample_scores``, seeded by the phase and split), so each entry brings
``R`` resampled primary scores that line up resample by resample. From them, for the board in
its stored order (best first):

- ``interval``: the percentile bootstrap interval of the entry's score at ``level = 1 - alpha``
  (the ``alpha/2`` and ``1 - alpha/2`` percentiles, numpy's linear interpolation; resamples where
  the score is undefined are left out).
- ``p_vs_next``: a one-sided paired bootstrap p-value against the next ranked team below: the
  fraction of the ``R`` resamples in which that team scores at least as well as this one (by the
  metric's direction). Small: this entry is ahead beyond the noise of the test set. None for
  baselines, the last ranked team, and when the team below has no resampled scores.
- ``tie_group``: ranked teams are walked best first; a team joins the group of the team above
  when the one above has a ``p_vs_next`` greater than ``alpha`` (their difference is not
  significant), otherwise it opens the next group (numbered 1, 2, ...). Groups are chains:
  the first and last of a long group may differ significantly.
- ``rank_range``: ``[best, worst]`` competition rank (1 + the number of teams strictly better) of
  the team over the resamples, among every ranked team of the board; a team without resampled
  scores takes part with its observed score in every resample.

Ranks under resampling use the primary score only; the board's tie-break metrics are not
resampled. Baselines get an interval only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BoardRow", "board_statistics", "competition_ranks"]


@dataclass(frozen=True)
class BoardRow:
    """One entry of a board, in board order: its observed score and its resampled scores (None: none stored)."""

    score: float
    is_baseline: bool
    resampled: np.ndarray | None


def _oriented(values: np.ndarray, greater_is_better: bool) -> np.ndarray:
    """Values where larger is better; undefined ones (NaN) are the worst."""
    values = np.asarray(values, dtype=np.float64)
    values = values if greater_is_better else -values
    return np.where(np.isnan(values), -np.inf, values)


def competition_ranks(oriented: np.ndarray) -> np.ndarray:
    """Column by column, each row's competition rank: 1 + the number of rows strictly larger.

    >>> competition_ranks(np.array([[3.0, 1.0], [3.0, 2.0], [1.0, 2.0]])).tolist()
    [[1, 3], [1, 1], [3, 1]]
    """
    rows = oriented.shape[0]
    by_resample = np.ascontiguousarray(oriented.T)  # one resample per row: sorts along contiguous memory
    order = np.argsort(by_resample, axis=1)
    ascending = np.take_along_axis(by_resample, order, axis=1)
    # At each sorted place, the last place holding the same value: rows <= the value = that place + 1.
    last = np.broadcast_to(np.arange(rows), ascending.shape).copy()
    last[:, :-1][ascending[:, 1:] == ascending[:, :-1]] = rows
    last = np.minimum.accumulate(last[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(by_resample.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, rows - last, axis=1)
    return ranks.T


def board_statistics(
    rows: Sequence[BoardRow], *, greater_is_better: bool, alpha: float
) -> list[dict | None]:
    """Each row's statistics (see the module docstring), in the order of ``rows``; None for a row
    without resampled scores. Every ``resampled`` array must have the same length."""
    level = 1.0 - alpha
    result: list[dict | None] = [None] * len(rows)
    with_scores = [i for i, row in enumerate(rows) if row.resampled is not None]
    if not with_scores:
        return result
    matrix = np.vstack([rows[i].resampled for i in with_scores]).astype(np.float64, copy=False)
    tails = [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)]
    undefined = np.isnan(matrix)
    bounds = np.full((len(with_scores), 2), np.nan)
    complete = ~undefined.any(axis=1)
    if complete.any():  # np.percentile where no resample is undefined: the same values, faster
        bounds[complete] = np.percentile(matrix[complete], tails, axis=1).T
    partial = ~complete & ~undefined.all(axis=1)
    if partial.any():
        bounds[partial] = np.nanpercentile(matrix[partial], tails, axis=1).T
    for k, i in enumerate(with_scores):
        low, high = bounds[k]
        result[i] = {"interval": {"low": None if np.isnan(low) else float(low),
                                  "high": None if np.isnan(high) else float(high), "level": level}}

    ranked = [i for i, row in enumerate(rows) if not row.is_baseline]
    if not ranked:
        return result
    resamples = matrix.shape[1]
    oriented = np.empty((len(ranked), resamples))
    row_of = {i: k for k, i in enumerate(with_scores)}
    for k, i in enumerate(ranked):
        if i in row_of:
            oriented[k] = _oriented(matrix[row_of[i]], greater_is_better)
        else:
            oriented[k] = _oriented(np.array([rows[i].score]), greater_is_better)[0]
    ranks = competition_ranks(oriented)
    best, worst = ranks.min(axis=1), ranks.max(axis=1)
    # For each ranked team, the fraction of resamples where the team below scores at least as well.
    at_least_as_good = (oriented[1:] >= oriented[:-1]).mean(axis=1)

    group = 0
    joins = False  # whether the next ranked team joins the current group
    for k, i in enumerate(ranked):
        stats = result[i]
        if stats is None:
            joins = False
            continue
        if not joins:
            group += 1
        p_vs_next = None
        if k + 1 < len(ranked) and result[ranked[k + 1]] is not None:
            p_vs_next = float(at_least_as_good[k])
        stats.update(p_vs_next=p_vs_next, rank_range=[int(best[k]), int(worst[k])], tie_group=group)
        joins = p_vs_next is not None and p_vs_next > alpha
    return result
