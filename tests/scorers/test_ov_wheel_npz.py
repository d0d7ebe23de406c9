"""The organisers' ``.npz`` submissions are read as text arrays and never unpickled."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from scorers import SubmissionFormatError, get_scorer

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"
GOLD = b'name,openset\na,"[joy, fear]"\nb,sadness\nc,\n'
PRED_CELLS = {"a": "['happy', 'scared']", "b": "gloomy, Sad", "c": "joy", "d": "anger"}


@pytest.fixture(scope="module")
def scorer():
    return get_scorer("mer.ov-wheel")


def npz_bytes(**arrays: object) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def csv_prediction() -> bytes:
    rows = "".join(f'{name},"{cell}"\n' for name, cell in PRED_CELLS.items())
    return ("name,openset\n" + rows).encode()


def test_organisers_npz_scores_like_the_csv(scorer) -> None:
    # as the organisers save it: two lists of str
    data = npz_bytes(filenames=list(PRED_CELLS), fileitems=list(PRED_CELLS.values()))
    from_npz = scorer.score(gold=GOLD, pred=data, assets=DEMO)
    from_csv = scorer.score(gold=GOLD, pred=csv_prediction(), assets=DEMO)
    assert from_npz.metrics == from_csv.metrics
    assert from_npz.score == 1.0 - 0.2  # 'fear' and 'sadness' are not on wheel 4 ('joy' neither)
    assert scorer.validate(data, golds=[GOLD]) == 4


def test_two_dimensional_fileitems_and_byte_strings(scorer, tmp_path: Path) -> None:
    items = np.array([["happy", "scared"], ["gloomy", "Sad "], ["joy", ""], ["anger", ""]])
    names = np.array([b"a", b"b", b"c", b"d"])
    path = tmp_path / "submission.npz"
    path.write_bytes(npz_bytes(filenames=names, fileitems=items))
    result = scorer.score(gold=GOLD, pred=path, assets=DEMO)
    assert result.metrics == scorer.score(gold=GOLD, pred=csv_prediction(), assets=DEMO).metrics


def test_object_arrays_are_refused_without_unpickling(scorer, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = np.empty(1, dtype=object)
    evil[0] = Payload()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        with archive.open("filenames.npy", "w") as member:
            np.lib.format.write_array(member, np.array(["a"]))
        with archive.open("fileitems.npy", "w") as member:
            np.lib.format.write_array(member, evil, allow_pickle=True)
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.validate(buffer.getvalue())
    assert str(caught.value).startswith(
        "prediction file: array 'fileitems' of the .npz archive holds Python objects, which are "
        "never unpickled here; save plain text arrays")
    assert not marker.exists()
    ragged = npz_bytes(filenames=["a", "b"], fileitems=np.array([["x"], ["y", "z"]], dtype=object))
    with pytest.raises(SubmissionFormatError, match="holds Python objects"):
        scorer.validate(ragged)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (npz_bytes(filenames=["a"]),
         "prediction file: the .npz archive has no array 'fileitems' (it holds: filenames); it "
         "needs 'filenames' and 'fileitems'"),
        (npz_bytes(filenames=["a", "b"], fileitems=["joy"]),
         "prediction file: 'fileitems' must hold one entry per name (2), found shape (1,)"),
        (npz_bytes(filenames=np.array([[b"a"]]), fileitems=["joy"]),
         "prediction file: 'filenames' must be a 1-D array of names, not of shape (1, 1)"),
        (npz_bytes(filenames=["a", " "], fileitems=["joy", "sad"]),
         "prediction file: 'filenames' entry 2 is empty; every sample needs a name"),
        (npz_bytes(filenames=["a"], fileitems=np.array([0.5])),
         "prediction file: array 'fileitems' of the .npz archive holds float64 values, not text; "
         "save plain text arrays, e.g. np.savez_compressed(path, filenames=np.array(names, "
         "dtype=str), fileitems=np.array(label_cells, dtype=str))"),
        (npz_bytes(filenames=np.array([], dtype=str), fileitems=np.array([], dtype=str)),
         "prediction file: the .npz archive holds no samples"),
        (b"PK\x03\x04 not really a zip",
         "prediction file: is neither CSV text nor a readable .npz archive"),
    ],
)
def test_malformed_npz_files(scorer, data: bytes, message: str) -> None:
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.validate(data)
    assert str(caught.value) == message


def test_repeated_names_in_npz(scorer) -> None:
    data = npz_bytes(filenames=["b", "a", "c", "b", "a"], fileitems=["joy"] * 5)
    with pytest.raises(SubmissionFormatError) as caught:
        scorer.validate(data)
    assert str(caught.value) == (
        "prediction file: 'filenames' entry 4 repeats 'b' (also entry 1); keep one entry per "
        "sample")
