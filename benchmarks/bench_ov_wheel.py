"""Benchmark of ``mer.ov-wheel`` against the organisers' per-sample loop (run by hand).

    .venv/bin/python benchmarks/bench_ov_wheel.py [--samples 20000] [--level level2]

``benchmarks/bench_scorers.py`` runs the same case (``make_ov_wheel``, ``reference_ov_wheel``)
next to the other tracks; this script adds the time with the wheel files read too, the time with
the per-sample explanation asked for (option ``explain``), CPU-time ratios, and checks all three
metrics.

Uses the MER2026 wheel files of the conformance folder when present (ARENA_CONFORMANCE_DIR or
../shared/conformance), else the demo wheels. The reference path is the organisers' evaluation
written in their style: pandas reads the files, every sample's labels are mapped label by label
(word forms -> base words -> sorted synonym candidates -> first one on the wheel), wheel by wheel.
Both paths must give the same scores; the script checks it.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import openpyxl  # noqa: F401  - imported up front, as in a running worker; timings exclude it
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scorers import get_scorer  # noqa: E402
from scorers.cache import gold_cache  # noqa: E402
from scorers.wheel import assets as wheel_assets  # noqa: E402

WHEELS = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")


def wheel_folder() -> Path:
    base = Path(os.environ.get("ARENA_CONFORMANCE_DIR") or ROOT / ".." / "shared" / "conformance")
    mer = base / "wheels" / "mer2026"
    return mer if mer.is_dir() else ROOT / "fixtures" / "wheels" / "demo"


# -- the reference path, in the organisers' style ------------------------------------------------

def string_to_list(value):
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        return value
    if value == "" or pd.isna(value):
        return []
    if value[0] == "[":
        value = value[1:]
    if value[-1] == "]":
        value = value[:-1]
    return [item.strip() for item in re.split("['\",]", value) if item.strip() not in ["", ","]]


def read_sheet(folder: Path, name: str) -> pd.DataFrame:
    xlsx = folder / f"{name}.xlsx"
    return pd.read_excel(xlsx) if xlsx.exists() else pd.read_csv(folder / f"{name}.csv")


def read_wheel_to_map(folder: Path, wheel: str):
    store_map = {}
    level1 = level2 = level3 = ""
    for _, row in read_sheet(folder, wheel).iterrows():
        if not pd.isna(row["level1"]):
            level1 = row["level1"]
        if not pd.isna(row["level2"]):
            level2 = row["level2"]
        if not pd.isna(row["level3"]):
            level3 = row["level3"]
        level1, level2, level3 = (x.lower().strip() for x in (level1, level2, level3))
        store_map.setdefault(level1, {}).setdefault(level2, []).append(level3)
    return store_map


def read_format2raws(folder: Path):
    format2raws = {}
    for _, row in pd.read_csv(folder / "format.csv").iterrows():
        raw, forms = row["name"], row["format"]
        forms = "" if pd.isna(forms) else forms
        for item in string_to_list(forms):
            format2raws.setdefault(item, []).append(raw)
        format2raws.setdefault(raw, []).append(raw)
    return format2raws


def read_candidate_synonym_merge(folder: Path):
    sheet = read_sheet(folder, "synonym")
    merged = {}
    for run in range(1, 9):
        mapping = {}
        for _, row in sheet.iterrows():
            raw = row[f"word_run{run}"].strip().lower()
            mapping.setdefault(raw, []).append(raw)
            for synonym in string_to_list(row[f"synonym_run{run}"]):
                mapping.setdefault(synonym.strip().lower(), []).append(raw)
        for key, value in mapping.items():
            merged[key] = list(set(merged.get(key, []) + value))
    return merged


def wheel_cluster(folder: Path, wheel: str, level: str):
    tree = read_wheel_to_map(folder, wheel)
    wheel_map = {}
    for level1 in tree:
        wheel_map[level1] = level1 if level == "level1" else sorted(tree[level1])[0]
        for level2 in tree[level1]:
            wheel_map[level2] = level1 if level == "level1" else level2
            for level3 in tree[level1][level2]:
                wheel_map[level3] = level1 if level == "level1" else level2
    return wheel_map


def backward(label, format_mapping, raw_mapping, wheel_map):
    if label not in format_mapping:
        return ""
    whole = []
    for form in format_mapping[label]:
        for raw in raw_mapping[form]:
            whole.append(raw)
    for candidate in sorted(whole):
        if candidate in wheel_map:
            return wheel_map[candidate]
    return ""


def reference_score(folder, gold_csv, pred_csv, level, format_mapping, raw_mapping):
    name2gt = {r["name"]: ("" if pd.isna(r["openset"]) else r["openset"])
               for _, r in pd.read_csv(gold_csv).iterrows()}
    name2pred = {r["name"]: ("" if pd.isna(r["openset"]) else r["openset"])
                 for _, r in pd.read_csv(pred_csv).iterrows()}
    scores = []
    for wheel in WHEELS:
        wheel_map = wheel_cluster(folder, wheel, level)
        precision, recall = [], []
        for name in name2gt:
            gt = [item.lower().strip() for item in string_to_list(name2gt[name])]
            gt = {x for x in (backward(i, format_mapping, raw_mapping, wheel_map) for i in gt) if x}
            pred = [item.lower().strip() for item in string_to_list(name2pred[name])]
            pred = {x for x in (backward(i, format_mapping, raw_mapping, wheel_map) for i in pred)
                    if x}
            if not gt:
                continue
            if not pred:
                precision.append(0)
                recall.append(0)
            else:
                precision.append(len(gt & pred) / len(pred))
                recall.append(len(gt & pred) / len(gt))
        p = np.mean(precision) if precision else 0
        r = np.mean(recall) if recall else 0
        scores.append([0 if p + r == 0 else 2 * p * r / (p + r), p, r])
    return np.mean(scores, axis=0).tolist()


# -- data -----------------------------------------------------------------------------------------

def write_files(folder: Path, out: Path, samples: int, seed: int = 0) -> tuple[Path, Path]:
    rng = random.Random(seed)
    forms = sorted(pd.read_csv(folder / "format.csv")["name"].dropna().astype(str))
    table = pd.read_csv(folder / "format.csv")["format"].dropna().astype(str)
    forms += sorted({f for cell in table for f in cell.split(",")})
    vocabulary = forms + ["xqzt", "lighthearted-ish", "not a feeling"]

    def cell() -> str:
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 6))]
        words = [w.upper() if rng.random() < 0.1 else w for w in words]
        style = rng.randrange(3)
        if style == 0:
            return "[" + ", ".join(f"'{w}'" for w in words) + "]"
        return ("[" + ", ".join(words) + "]") if style == 1 else ", ".join(words)

    names = [f"sample_{i:08d}" for i in range(samples)]
    gold = pd.DataFrame({"name": names, "openset": [cell() for _ in names]})
    shuffled = names[:]
    rng.shuffle(shuffled)
    pred = pd.DataFrame({"name": shuffled, "openset": [cell() for _ in shuffled]})
    gold_csv, pred_csv = out / "gold.csv", out / "pred.csv"
    gold.to_csv(gold_csv, index=False)
    pred.to_csv(pred_csv, index=False)
    return gold_csv, pred_csv


_TABLES: dict[Path, tuple[dict, dict]] = {}


def _tables(folder: Path) -> tuple[dict, dict]:
    """The organisers build these two mappings once, when their module is imported."""
    if folder not in _TABLES:
        _TABLES[folder] = (read_format2raws(folder), read_candidate_synonym_merge(folder))
    return _TABLES[folder]


def make_ov_wheel(out: Path, samples: int = 20_000) -> tuple[Path, Path]:
    """Gold and prediction files of ``samples`` samples over the benchmark's wheel vocabulary."""
    return write_files(wheel_folder(), out, samples)


def reference_ov_wheel(gold_csv: Path, pred_csv: Path, level: str = "level1") -> float:
    """The reference path's F score (mapping tables built once per process, as theirs are)."""
    folder = wheel_folder()
    return reference_score(folder, gold_csv, pred_csv, level, *_tables(folder))[0]


def timed(call, runs: int = 1) -> tuple[object, float, float]:
    """``call``'s value and the median wall-clock and CPU seconds over ``runs`` runs."""
    walls, cpus = [], []
    value = None
    for _ in range(runs):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        value = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return value, statistics.median(walls), statistics.median(cpus)


def run(samples: int = 20_000, level: str = "level1", runs: int = 5) -> dict[str, object]:
    """Time both paths on ``samples`` samples; returns the figures and checks equal scores."""
    folder = wheel_folder()
    scorer = get_scorer("mer.ov-wheel")
    options = {"level": level}
    with tempfile.TemporaryDirectory() as tmp:
        gold_csv, pred_csv = write_files(folder, Path(tmp), samples)

        def score():
            return scorer.score(gold=gold_csv, pred=pred_csv, options=options, assets=folder)

        def first():
            wheel_assets._cache.clear()
            gold_cache.clear()
            return score()

        def cold():
            gold_cache.clear()
            return score()

        def explained():
            gold_cache.clear()
            return scorer.score(gold=gold_csv, pred=pred_csv, options={**options, "explain": True},
                                assets=folder)

        result, *first_s = timed(first, runs)
        _, *cold_s = timed(cold, runs)
        _, *warm_s = timed(score, runs)
        _, *explained_s = timed(explained, runs)
        tracemalloc.start()
        score()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        (fm, rm), *tables_s = timed(lambda: (read_format2raws(folder),
                                             read_candidate_synonym_merge(folder)))
        reference, *loop_s = timed(
            lambda: reference_score(folder, gold_csv, pred_csv, level, fm, rm), max(1, runs // 2))
    ours = [result.metrics[k] for k in ("fscore", "precision", "recall")]
    if not np.allclose(ours, reference, rtol=1e-12, atol=0):
        raise SystemExit(f"scores differ: {ours} vs reference {reference}")
    return {
        "wheels": folder.name, "samples": samples, "level": level, "fscore": ours[0],
        "first": first_s, "cold": cold_s, "warm": warm_s, "explained": explained_s,
        "peak_mb": peak / 2**20,
        "tables": tables_s, "loop": loop_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--level", default="level1", choices=("level1", "level2"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures = run(args.samples, args.level, args.runs)
    loop_wall, loop_cpu = figures["loop"]
    print(f"mer.ov-wheel, {figures['samples']} samples, {figures['wheels']} wheels, "
          f"{figures['level']} (F = {figures['fscore']:.6f}, equal on both paths); "
          "median wall-clock seconds (CPU seconds), ratio to the reference loop in CPU time")
    rows = (
        ("scorer, first (wheel files and both files read)", figures["first"]),
        ("scorer, cold (wheel set cached, both files read)", figures["cold"]),
        ("scorer, warm (wheel set and reference cached)", figures["warm"]),
        ("scorer, cold, with the per-sample explanation", figures["explained"]),
        ("reference: mapping tables (built once)", figures["tables"]),
        ("reference: per-sample loop", figures["loop"]),
    )
    for label, (wall, cpu) in rows:
        ratio = f"  {loop_cpu / cpu:5.1f}x" if label.startswith("scorer") else ""
        print(f"  {label:<52}{wall:7.3f} ({cpu:.3f}){ratio}")
    print(f"  scorer, peak traced memory: {figures['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
