"""``python -m scorers``: output, exit status and one-line errors, run as a subprocess."""

from __future__ import annotations

import json

import pytest

from tests.scorers.helpers import csv_bytes, run_cli

VA_HEADER = "image_location,valence,arousal"


@pytest.fixture
def va_files(tmp_path):
    gold = tmp_path / "gold.csv"
    pred = tmp_path / "pred.csv"
    gold.write_bytes(csv_bytes(VA_HEADER, "f1,0.5,0.1", "f2,-0.5,0.3", "f3,0.0,-0.2"))
    pred.write_bytes(csv_bytes(VA_HEADER, "f3,0.1,-0.2", "f1,0.4,0.1", "f2,-0.2,0.3"))
    return gold, pred


def assert_one_line_error(result, status: int, message: str) -> None:
    assert result.returncode == status
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.stderr


def test_score_json(va_files):
    gold, pred = va_files
    result = run_cli("score", "--track", "abaw.va", "--gold", str(gold), "--pred", str(pred), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["metrics"]["ccc_valence"] == pytest.approx(60 / 71, abs=1e-14)
    assert payload["metrics"]["ccc_arousal"] == pytest.approx(1.0, abs=1e-14)
    assert payload["score"] == payload["metrics"]["mean_ccc"]
    assert result.stdout.count("\n") == 1


def test_score_text_with_bootstrap(va_files):
    gold, pred = va_files
    result = run_cli(
        "score",
        "--track",
        "abaw.va",
        "--gold",
        str(gold),
        "--pred",
        str(pred),
        "--option",
        "bootstrap=50",
        "--option",
        "seed=2",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("score: 0.92") and lines[0].endswith(" (mean_ccc)")
    assert lines[-1].startswith("95% bootstrap interval: [")
    assert lines[-1].endswith("] (50 resamples, seed 2)")


def test_validate(va_files, tmp_path):
    gold, pred = va_files
    result = run_cli("validate", "--track", "abaw.va", "--pred", str(pred), "--gold", str(gold))
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok: 3 prediction rows\n", "")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(VA_HEADER, "f1,0.5,0.1", "f2,abc,0.3"))
    result = run_cli("validate", "--track", "abaw.va", "--pred", str(bad))
    assert_one_line_error(
        result,
        1,
        "prediction file, line 3, column 'valence': 'abc' is not a number; write a number in [-1, 1], like 0.25",
    )


def test_list_text_and_json():
    text = run_cli("list")
    assert text.returncode == 0
    assert "abaw.va — ABAW valence-arousal estimation (mean CCC)\n" in text.stdout
    assert "    --option bootstrap=... (an integer >= 0; default 0)" in text.stdout
    listing = json.loads(run_cli("list", "--json").stdout)
    by_key = {entry["key"]: entry for entry in listing}
    assert by_key["mer.discrete"]["pred_header"] == ["name", "discrete"]
    assert by_key["abaw.ah"]["pred_header"] is None
    assert by_key["mer.discrete"]["allows_extra_keys"] is True
    options = {option["name"]: option for option in by_key["mer.discrete"]["options"]}
    assert options["labels"]["default"] == ["neutral", "angry", "happy", "sad", "worried", "surprise"]
    assert options["bootstrap"] == {
        "name": "bootstrap",
        "kind": "int",
        "default": 0,
        "help": "number of bootstrap resamples for a 95% confidence interval of the score (0 = off)",
        "choices": [],
        "minimum": 0,
    }


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["score", "--track", "abaw.nope", "--gold", "g", "--pred", "p"], 2, "unknown scorer 'abaw.nope'; known: "),
        (
            ["score", "--track", "abaw.va", "--gold", "g"],
            2,
            "the following arguments are required: --pred (see: python -m scorers score --help)",
        ),
        (["frobnicate"], 2, "argument command: invalid choice: 'frobnicate'"),
        (
            ["score", "--track", "abaw.va", "--gold", "g", "--pred", "p", "--option", "seed"],
            2,
            "--option expects NAME=VALUE, got 'seed'",
        ),
    ],
)
def test_usage_errors_exit_2(args, status, message):
    result = run_cli(*args)
    assert result.returncode == status
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_missing_file_and_bad_option_exit_1(va_files, tmp_path):
    gold, pred = va_files
    missing = tmp_path / "x.csv"
    result = run_cli("score", "--track", "abaw.va", "--gold", str(gold), "--pred", str(missing))
    assert_one_line_error(result, 1, f"cannot read prediction file '{missing}': No such file or directory")
    result = run_cli(
        "score", "--track", "abaw.va", "--gold", str(gold), "--pred", str(pred), "--option", "bootstrap=-3"
    )
    assert_one_line_error(result, 1, "option 'bootstrap' must be an integer >= 0, got '-3'")


def test_binary_garbage_is_one_line(va_files, tmp_path):
    gold, _ = va_files
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run_cli("score", "--track", "abaw.va", "--gold", str(gold), "--pred", str(junk))
    assert_one_line_error(
        result,
        1,
        "prediction file, line 1: the file is not UTF-8 text (byte 0x89 cannot be decoded); save the file as UTF-8",
    )
