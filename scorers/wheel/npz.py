"""The MER organisers' ``.npz`` submissions: arrays ``filenames`` and ``fileitems``, read safely.

The organisers save ``np.savez_compressed(path, filenames=names, fileitems=cells)`` from lists of
strings, which numpy stores as plain text arrays. Members are read without unpickling: an array of
Python objects (a pickle) is refused with a message saying how to save the file instead.
``fileitems`` is either one label-list cell per sample (1-D) or one row of labels per sample (2-D,
empty strings as padding).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from scorers.errors import SubmissionFormatError
from scorers.parsing.table import Table

__all__ = ["ZIP_MAGIC", "is_npz", "read_openset_npz"]

ZIP_MAGIC = b"PK\x03\x04"
_MEMBERS = ("filenames", "fileitems")
# An upload is small; a member claiming more than this once decompressed is refused.
_MAX_MEMBER_BYTES = 256 << 20
_SAVE_HINT = (
    "save plain text arrays, e.g. np.savez_compressed(path, filenames=np.array(names, dtype=str), "
    "fileitems=np.array(label_cells, dtype=str))"
)


def is_npz(data: bytes) -> bool:
    """Whether ``data`` looks like a zip archive (an ``.npz`` file) rather than CSV text."""
    return data[:4] == ZIP_MAGIC


def _fail(message: str, file: str) -> SubmissionFormatError:
    return SubmissionFormatError(message, file=file)


def _read_member(archive: zipfile.ZipFile, name: str, file: str) -> np.ndarray:
    member = f"{name}.npy"
    try:
        info = archive.getinfo(member)
    except KeyError:
        present = ", ".join(sorted(n.removesuffix(".npy") for n in archive.namelist())) or "none"
        raise _fail(
            f"the .npz archive has no array '{name}' (it holds: {present}); it needs "
            f"'filenames' and 'fileitems'", file
        ) from None
    if info.file_size > _MAX_MEMBER_BYTES:
        raise _fail(f"array '{name}' of the .npz archive is larger than 256 MiB", file)
    try:
        with archive.open(info) as handle:
            stream = io.BytesIO(handle.read(_MAX_MEMBER_BYTES + 1))
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            _, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise _fail(f"array '{name}' of the .npz archive is not a readable .npy array "
                    f"({error})", file) from None
    if dtype.hasobject:
        raise _fail(
            f"array '{name}' of the .npz archive holds Python objects, which are never unpickled "
            f"here; {_SAVE_HINT}", file
        )
    if dtype.kind not in "US":
        raise _fail(f"array '{name}' of the .npz archive holds {dtype} values, not text; "
                    f"{_SAVE_HINT}", file)
    stream.seek(0)
    try:
        array = np.lib.format.read_array(stream, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise _fail(f"array '{name}' of the .npz archive cannot be read ({error})", file) from None
    if dtype.kind == "S":
        try:
            array = np.char.decode(array, "utf-8")
        except UnicodeDecodeError:
            raise _fail(f"array '{name}' of the .npz archive is not UTF-8 text", file) from None
    return array


def _check_unique(keys: np.ndarray, file: str) -> None:
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    same = np.flatnonzero(ranked[1:] == ranked[:-1])
    if same.size:
        later = order[same + 1]
        pick = int(np.argmin(later))
        first, second = int(order[same[pick]]), int(later[pick])
        raise _fail(
            f"'filenames' entry {second + 1} repeats {str(keys[second])!r} (also entry "
            f"{first + 1}); keep one entry per sample", file
        )


def read_openset_npz(data: bytes, *, file: str) -> Table:
    """A ``Table`` with keys from ``filenames`` and an ``openset`` column from ``fileitems``.

    The ``openset`` column holds, per sample, the cell text (1-D ``fileitems``) or a tuple of the
    non-empty labels of its row (2-D). Row numbers (``lines``) are entry numbers, from 1.
    Raises ``SubmissionFormatError`` for anything else.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _fail("is neither CSV text nor a readable .npz archive", file) from None
    with archive:
        names, items = (_read_member(archive, member, file) for member in _MEMBERS)
    if names.ndim != 1:
        raise _fail(f"'filenames' must be a 1-D array of names, not of shape {names.shape}", file)
    if items.ndim not in (1, 2) or items.shape[0] != names.shape[0]:
        raise _fail(
            f"'fileitems' must hold one entry per name ({names.shape[0]}), found shape "
            f"{items.shape}", file
        )
    if names.shape[0] == 0:
        raise _fail("the .npz archive holds no samples", file)
    keys = np.char.strip(names)
    empty = np.flatnonzero(np.char.str_len(keys) == 0)
    if empty.size:
        raise _fail(f"'filenames' entry {int(empty[0]) + 1} is empty; every sample needs a name",
                    file)
    _check_unique(keys, file)
    encoded = np.char.encode(keys, "utf-8")
    column = np.empty(items.shape[0], dtype=object)
    if items.ndim == 1:
        column[:] = items.tolist()
    else:
        column[:] = [tuple(label for label in row if label.strip()) for row in items.tolist()]
    return Table(
        keys=encoded,
        lines=np.arange(1, names.shape[0] + 1, dtype=np.int64),
        columns={"openset": column},
        file=file,
    )
