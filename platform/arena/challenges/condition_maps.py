"""A phase's condition map: which robustness condition each test sample of a prediction-file track is
under (the organisers corrupted the published test inputs themselves, one condition per sample).

A CSV file, UTF-8, with the header ``<key column of the track's scorer>,condition`` and one row per
reference key (public and private), e.g.::

    name,condition
    sample_0001,clean
    sample_0002,snr0

Every key of the phase's references is mapped exactly once, to a condition of the phase's robustness
protocol, and every condition holds keys of each reference (each split is scored per condition). An
uploaded prediction file is then scored once per condition, on that condition's keys.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

import scorers
from arena.challenges.robustness import ProtocolError, phase_protocol
from scorers.errors import quote_cell

__all__ = ["ConditionMapError", "parse_condition_map", "check_condition_map", "condition_map_error",
           "phase_condition_groups"]

CONDITION_COLUMN = "condition"
_BOM = "\ufeff"
_SPLITS = ("public", "private")


class ConditionMapError(ValueError):
    """A condition map that cannot be used; ``message`` says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_condition_map(data: bytes, *, key_column: str, conditions: Sequence[str]) -> dict[str, list[str]]:
    """The keys of each condition (in protocol order, keys in file order) that the map ``data`` gives;
    ConditionMapError naming the first line at fault otherwise. Keys are stripped of spaces and tabs,
    as the scorers strip them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConditionMapError(f"The condition map is not UTF-8 text (line {line}); save it as UTF-8.") from None
    text = text.removeprefix(_BOM)
    if "\x00" in text:
        raise ConditionMapError("The condition map contains a NUL byte; save it as UTF-8 text (not UTF-16).")
    expected = f"{key_column},{CONDITION_COLUMN}"
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    groups: dict[str, list[str]] = {name: [] for name in conditions}
    first_line: dict[str, int] = {}
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise ConditionMapError(f"The condition map is empty; write the header \"{expected}\" and then one "
                                    "row per reference key.")
        if [cell.strip() for cell in header] != [key_column, CONDITION_COLUMN]:
            found = quote_cell(",".join(header))
            raise ConditionMapError(f"The condition map's header must be \"{expected}\"; line {reader.line_num} "
                                    f"is {found}.")
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 2:
                raise ConditionMapError(f"Line {line} of the condition map has {len(row)} cells; write two: the "
                                        f"{key_column} and its condition.")
            key, condition = row[0].strip(" \t"), row[1].strip()
            if not key:
                raise ConditionMapError(f"Line {line} of the condition map has an empty {key_column}.")
            if condition not in groups:
                raise ConditionMapError(
                    f"Line {line} of the condition map names condition {quote_cell(condition)}, which is not in the "
                    f"phase's robustness protocol (its conditions: {', '.join(conditions)}).")
            if key in first_line:
                raise ConditionMapError(f"Line {line} of the condition map maps {key_column} {quote_cell(key)} "
                                        f"again (first on line {first_line[key]}); map each key once.")
            first_line[key] = line
            groups[condition].append(key)
    except csv.Error as exc:
        raise ConditionMapError(f"Line {reader.line_num} of the condition map is not valid CSV: {exc}.") from None
    return groups


def check_condition_map(groups: Mapping[str, Sequence[str]], *, key_column: str,
                        reference_keys: Mapping[str, Sequence[str]]) -> None:
    """Check that the map ``groups`` covers every key of each reference (``{split: keys}``) once, names no
    other key, and gives every condition keys of each reference. Raises ConditionMapError."""
    mapped = {key for keys in groups.values() for key in keys}
    known: set[str] = set()
    for split, keys in reference_keys.items():
        known.update(keys)
        missing = [key for key in keys if key not in mapped]
        if missing:
            raise ConditionMapError(
                f"The condition map does not map {key_column} {quote_cell(missing[0])} of the {split} reference "
                f"({len(missing)} of its {len(keys)} keys are not mapped); map every key of the references once.")
    extra = [key for keys in groups.values() for key in keys if key not in known]
    if extra:
        raise ConditionMapError(
            f"The condition map maps {key_column} {quote_cell(extra[0])}, which is in no reference of the phase "
            f"({len(extra)} such keys); map the references' keys only.")
    for split, keys in reference_keys.items():
        held = set(keys)
        for condition, condition_keys in groups.items():
            if not any(key in held for key in condition_keys):
                raise ConditionMapError(
                    f"Condition {condition!r} has no key of the {split} reference; each condition is scored on "
                    "each reference, so map some of its keys to every condition.")


def condition_map_error(phase, *, golds: Mapping[str, bytes] | None = None) -> str | None:  # type: ignore[no-untyped-def]
    """What an organiser must fix in the phase's condition map, or None (also when it has none, or when
    the protocol, the scorer or the references are at fault: those are reported on their own).

    ``golds``: the phase's reference files already read, by split; read from storage when not given."""
    stored = getattr(phase, "condition_map", None)
    if not stored:
        return None
    try:
        protocol = phase_protocol(phase)
    except ProtocolError:
        return None
    if protocol is None:
        return ("A condition map needs a robustness protocol on the phase (its conditions are the protocol's); "
                "add a protocol or remove the map.")
    if getattr(phase, "track_id", None) is None:
        return None
    try:
        scorer = scorers.get_scorer(phase.track.scorer_key)
        options = scorer.validate_options(phase.track.scorer_options)
    except scorers.ScorerError:
        return None
    try:
        data = _read(stored)
    except OSError:
        return f"The condition map '{stored.name}' is missing from storage; upload it again."
    try:
        groups = parse_condition_map(data, key_column=scorer.key_column, conditions=protocol.names)
    except ConditionMapError as exc:
        return exc.message
    reference_keys: dict[str, list[str]] = {}
    for split in _SPLITS:
        reference = getattr(phase, f"reference_{split}")
        if not reference:
            continue
        try:
            gold = golds[split] if golds is not None and split in golds else _read(reference)
            table = scorer.parse_file(gold, file="gold", options=options)
        except (OSError, scorers.ScorerError):
            return None
        reference_keys[split] = [key.decode("utf-8") for key in table.keys.tolist()]
    if not reference_keys:
        return None
    try:
        check_condition_map(groups, key_column=scorer.key_column, reference_keys=reference_keys)
    except ConditionMapError as exc:
        return exc.message
    return None


def phase_condition_groups(phase, *, key_column: str) -> dict[str, list[str]] | None:  # type: ignore[no-untyped-def]
    """The keys of each condition of the phase's stored condition map, or None when the phase has no map or
    no protocol. Raises ConditionMapError (also for a file missing from storage): the map was checked when
    the phase was saved, so either is the organisers' to fix."""
    if not getattr(phase, "condition_map", None):
        return None
    protocol = phase_protocol(phase)
    if protocol is None:
        return None
    try:
        data = _read(phase.condition_map)
    except OSError as exc:
        raise ConditionMapError(f"The condition map '{phase.condition_map.name}' cannot be read ({exc}).") from None
    return parse_condition_map(data, key_column=key_column, conditions=protocol.names)


def _read(file) -> bytes:  # type: ignore[no-untyped-def]
    """All of a stored or uploaded file, leaving it at its start for whoever reads it next."""
    file.open("rb")
    try:
        file.seek(0)
        return file.read()
    finally:
        file.seek(0)
