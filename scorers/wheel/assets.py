"""Loading an emotion-wheel folder: the word-form table, the synonym sheet and the five wheels.

A folder holds ``format.csv`` (word form table), ``synonym.xlsx`` (synonym sheet) and
``wheel1.xlsx`` .. ``wheel5.xlsx``; each may instead be the other of ``.csv``/``.xlsx``. When both
exist, the organisers' own file wins (``format.csv``, ``synonym.xlsx``, ``wheelN.xlsx``). Loaded
folders are cached by the digest of their content, so a changed file is always re-read.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from scorers.errors import AssetError, quote_cell
from scorers.wheel.cells import split_list_cell
from scorers.wheel.mapping import LabelMap, build_label_map
from scorers.wheel.sheets import Sheet, read_sheet

__all__ = [
    "LEVELS",
    "WHEEL_NAMES",
    "Wheel",
    "WheelSet",
    "load_wheel_set",
    "wheel_set_from_files",
]

LEVELS = ("level1", "level2")
WHEEL_NAMES = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")

# role -> accepted file names, preferred first
_FILES: dict[str, tuple[str, ...]] = {
    "format": ("format.csv", "format.xlsx"),
    "synonym": ("synonym.xlsx", "synonym.csv"),
    **{name: (f"{name}.xlsx", f"{name}.csv") for name in WHEEL_NAMES},
}
_RUN_COLUMN = re.compile(r"word_run(\d+)")
_CACHE_SIZE = 8


@dataclass(frozen=True)
class Wheel:
    """One emotion wheel: ``tree[level1][level2]`` lists the level-3 words, all lower-cased and
    stripped, in the order of the sheet (a word repeated by forward-filling is kept)."""

    name: str
    tree: dict[str, dict[str, list[str]]]

    @property
    def words(self) -> frozenset[str]:
        """Every word of the wheel, at any level."""
        found = set()
        for level1, branches in self.tree.items():
            found.add(level1)
            for level2, leaves in branches.items():
                found.add(level2)
                found.update(leaves)
        return frozenset(found)

    def categories(self, level: str) -> dict[str, str]:
        """Word -> its category at ``level`` (``level1`` or ``level2``).

        At ``level1`` every word falls in its level-1 branch. At ``level2`` a level-1 word falls in
        the alphabetically first of its level-2 children. A word found in several places takes the
        category of its last place in the organisers' walk (level 1, then each level 2 followed by
        its level-3 words).
        """
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        mapping: dict[str, str] = {}
        for level1, branches in self.tree.items():
            mapping[level1] = level1 if level == "level1" else min(branches)
            for level2, leaves in branches.items():
                category = level1 if level == "level1" else level2
                mapping[level2] = category
                for level3 in leaves:
                    mapping[level3] = category
        return mapping


@dataclass
class WheelSet:
    """The content of one wheel folder.

    ``word_forms`` maps a word form to the base words whose row lists it (a base word also maps to
    itself); keys are exactly as written in the word-form table. ``synonyms`` maps a base word
    (lower-cased) to its synonym candidates: the wheel words whose synonym-sheet row lists it, or
    itself when it is such a word. ``digest`` identifies the content; ``files`` names the file read
    for each role.
    """

    digest: str
    files: dict[str, str]
    word_forms: dict[str, tuple[str, ...]]
    synonyms: dict[str, frozenset[str]]
    wheels: tuple[Wheel, ...]
    _label_maps: dict[str, LabelMap] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def wheel_names(self) -> tuple[str, ...]:
        return tuple(wheel.name for wheel in self.wheels)

    def candidates(self, form: str) -> tuple[str, ...]:
        """The sorted synonym candidates of a word form (empty when the form is not in the
        word-form table)."""
        found: set[str] = set()
        for base in self.word_forms.get(form, ()):
            found.update(self.synonyms.get(base, ()))
        return tuple(sorted(found))

    def label_map(self, level: str) -> LabelMap:
        """The label -> category table at ``level``, built once per wheel set and level."""
        with self._lock:
            built = self._label_maps.get(level)
            if built is None:
                built = build_label_map(self, level)
                self._label_maps[level] = built
            return built


_cache: OrderedDict[str, WheelSet] = OrderedDict()
_cache_lock = threading.Lock()


def load_wheel_set(folder: Path | str) -> WheelSet:
    """The wheel set in ``folder``; ``AssetError`` saying which file is missing or malformed.

    Results are cached by content digest, so loading the same folder twice reads its files but
    parses them once.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AssetError(f"emotion-wheel folder '{folder}' does not exist or is not a folder")
    chosen: dict[str, Path] = {}
    missing = []
    for role, names in _FILES.items():
        path = next((folder / name for name in names if (folder / name).is_file()), None)
        if path is None:
            missing.append(" or ".join(names))
        else:
            chosen[role] = path
    if missing:
        raise AssetError(f"emotion-wheel folder '{folder}' lacks {'; '.join(missing)}")
    contents = {}
    for path in chosen.values():
        try:
            contents[path.name] = path.read_bytes()
        except OSError as error:
            raise AssetError(f"cannot read {path}: {error.strerror or error}") from None
    return wheel_set_from_files(contents)


def wheel_set_from_files(contents: dict[str, bytes]) -> WheelSet:
    """The wheel set made of ``contents`` (file name -> bytes; names as in a wheel folder).

    Cached by digest like ``load_wheel_set``.
    """
    names = {role: next((n for n in accepted if n in contents), None)
             for role, accepted in _FILES.items()}
    absent = [" or ".join(_FILES[role]) for role, name in names.items() if name is None]
    if absent:
        raise AssetError(f"emotion-wheel files lack {'; '.join(absent)}")
    hasher = hashlib.sha256()
    for role in _FILES:
        name = names[role]
        data = contents[name]  # type: ignore[index]
        hasher.update(f"{name}\0{len(data)}\0".encode())
        hasher.update(data)
    digest = hasher.hexdigest()
    with _cache_lock:
        cached = _cache.get(digest)
        if cached is not None:
            _cache.move_to_end(digest)
            return cached
    sheets = {role: read_sheet(Path(name), contents[name])  # type: ignore[index]
              for role, name in names.items()}
    wheels = tuple(_read_wheel(role, sheets[role]) for role in WHEEL_NAMES)
    wheel_words = frozenset().union(*(wheel.words for wheel in wheels))
    loaded = WheelSet(
        digest=digest,
        files={role: name for role, name in names.items() if name is not None},
        word_forms=_read_word_forms(sheets["format"]),
        synonyms=_read_synonyms(sheets["synonym"], wheel_words),
        wheels=wheels,
    )
    with _cache_lock:
        _cache[digest] = loaded
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def _read_wheel(name: str, sheet: Sheet) -> Wheel:
    columns = [sheet.column(level) for level in ("level1", "level2", "level3")]
    tree: dict[str, dict[str, list[str]]] = {}
    current: list[str | None] = [None, None, None]
    for line, cells in sheet.rows:
        for i, column in enumerate(columns):
            if cells[column] is not None:
                current[i] = cells[column]
        if any(value is None for value in current):
            raise AssetError(
                f"{sheet.name}, line {line}: level1, level2 and level3 must all be set on the "
                "first row (later rows may leave a cell empty to repeat the one above)"
            )
        level1, level2, level3 = (value.lower().strip() for value in current)  # type: ignore[union-attr]
        tree.setdefault(level1, {}).setdefault(level2, []).append(level3)
    if not tree:
        raise AssetError(f"{sheet.name} holds no wheel rows")
    return Wheel(name=name, tree=tree)


def _read_word_forms(sheet: Sheet) -> dict[str, tuple[str, ...]]:
    name_column, format_column = sheet.column("name"), sheet.column("format")
    table: dict[str, list[str]] = {}
    for line, cells in sheet.rows:
        base = cells[name_column]
        if base is None:
            raise AssetError(f"{sheet.name}, line {line}: the 'name' cell is empty")
        for form in split_list_cell(cells[format_column] or ""):
            table.setdefault(form, []).append(base)
        table.setdefault(base, []).append(base)
    return {form: tuple(bases) for form, bases in table.items()}


def _read_synonyms(sheet: Sheet, wheel_words: frozenset[str]) -> dict[str, frozenset[str]]:
    runs = sorted(
        (int(match.group(1)), column)
        for column, match in ((c, _RUN_COLUMN.fullmatch(h)) for c, h in enumerate(sheet.header))
        if match
    )
    if not runs:
        raise AssetError(
            f"{sheet.name}: no 'word_run1' column; the sheet needs word_runN/synonym_runN pairs"
        )
    found: dict[str, set[str]] = {}
    for number, word_column in runs:
        synonym_column = sheet.column(f"synonym_run{number}")
        for line, cells in sheet.rows:
            cell = cells[word_column]
            if cell is None:
                raise AssetError(f"{sheet.name}, line {line}: the 'word_run{number}' cell is empty")
            word = cell.strip().lower()
            if word not in wheel_words:
                raise AssetError(
                    f"{sheet.name}, line {line}, column 'word_run{number}': {quote_cell(cell)} is not a "
                    "word of any wheel"
                )
            found.setdefault(word, set()).add(word)
            for synonym in split_list_cell(cells[synonym_column] or ""):
                found.setdefault(synonym.strip().lower(), set()).add(word)
    return {word: frozenset(candidates) for word, candidates in found.items()}
