"""A phase's robustness protocol: the named conditions its models are evaluated under, the seed
of the corruptions, and how the summary score is formed from the conditions' scores.

Stored as JSON on the phase (``Phase.robustness_protocol``)::

    {
      "conditions": [
        {"name": "clean", "condition": "clean"},
        {"name": "snr10", "condition": "noise:white@10db"},
        {"name": "snr0", "condition": "noise:white@0db"},
        {"name": "blur4", "condition": "blur:4"},
        {"name": "snr0+blur4", "condition": "noise:white@0db+blur:4", "severity": 3}
      ],
      "seed": 2024,
      "summary": "mean",
      "on_failure": "condition"
    }

``condition`` is a spec of ``sandboxes.corruptions`` (pure Python here, no torch). Each condition
belongs to a *family* (the kinds of its steps, e.g. ``noise:white``, ``blur``,
``noise:white+blur``) and sits at a *severity* on that family's curve: by default its position
among the family's conditions in protocol order (1, 2, ...); ``clean`` is severity 0 of every
curve. ``summary`` is ``mean`` (over conditions), ``worst`` (the worst condition) or ``auc`` (the
area under each family's score-vs-severity curve divided by its severity range, so it stays on
the score's scale, averaged over families). ``on_failure`` says what a condition whose run fails
does: ``condition`` (that condition scores the scale's worst value, ``TrackScorer.worst_score``, the
others still count; only for scorers whose scale has a floor) or ``submission`` (the whole submission
fails).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sandboxes.corruptions import ConditionError, parse_condition

SUMMARIES = ("mean", "worst", "auc")
ON_FAILURE = ("condition", "submission")
CLEAN_FAMILY = "clean"
MAX_CONDITIONS = 20
UNCHECKED_BANK = "noise-bank.wav"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}$")


class ProtocolError(ValueError):
    """A protocol that cannot be used; ``field`` says where (e.g. ``conditions[2].condition``)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class ProtocolCondition:
    name: str
    spec: str
    family: str
    severity: float
    uses_noise_bank: bool = False

    @property
    def is_clean(self) -> bool:
        return self.spec == "clean"


@dataclass(frozen=True)
class Protocol:
    conditions: tuple[ProtocolCondition, ...]
    seed: int
    summary: str = "mean"
    on_failure: str = "condition"

    @property
    def names(self) -> list[str]:
        return [condition.name for condition in self.conditions]

    @property
    def uses_noise_bank(self) -> bool:
        return any(condition.uses_noise_bank for condition in self.conditions)

    def to_json(self) -> dict[str, object]:
        return {
            "conditions": [{"name": c.name, "condition": c.spec, "family": c.family, "severity": c.severity}
                           for c in self.conditions],
            "seed": self.seed, "summary": self.summary, "on_failure": self.on_failure,
        }


def _family(spec_steps: Sequence[Mapping[str, object]]) -> str:
    parts = []
    for step in spec_steps:
        kind = str(step["kind"])
        parts.append(f"{kind}:{step['source']}" if "source" in step else kind)
    return "+".join(parts) or CLEAN_FAMILY


def parse_protocol(data: object, *, noise_bank: Sequence[str] | None = None) -> Protocol:
    """The protocol that ``data`` (the stored JSON) describes; ProtocolError naming the first
    mistake otherwise. ``noise_bank`` lists the track's noise-bank file names (None: not checked)."""
    if not isinstance(data, Mapping):
        raise ProtocolError("A robustness protocol is an object with \"conditions\", \"seed\", \"summary\" and "
                            "\"on_failure\".")
    unknown = sorted(set(data) - {"conditions", "seed", "summary", "on_failure"})
    if unknown:
        raise ProtocolError(f"Unknown key(s) {', '.join(map(repr, unknown))}; a protocol has \"conditions\", "
                            "\"seed\", \"summary\" and \"on_failure\".", field=unknown[0])
    raw = data.get("conditions")
    if not isinstance(raw, list) or not raw:
        raise ProtocolError("The protocol lists no conditions; give at least one, e.g. "
                            "[{\"name\": \"clean\", \"condition\": \"clean\"}].", field="conditions")
    if len(raw) > MAX_CONDITIONS:
        raise ProtocolError(f"The protocol lists {len(raw)} conditions; at most {MAX_CONDITIONS} are allowed.",
                            field="conditions")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise ProtocolError(f"The seed must be a whole number from 0 to {2**31 - 1}; got {seed!r}.", field="seed")
    summary = data.get("summary", "mean")
    if summary not in SUMMARIES:
        raise ProtocolError(f"Unknown summary {summary!r}; choose one of {', '.join(SUMMARIES)}.", field="summary")
    on_failure = data.get("on_failure", "condition")
    if on_failure not in ON_FAILURE:
        raise ProtocolError(f"Unknown on_failure {on_failure!r}; choose one of {', '.join(ON_FAILURE)}.",
                            field="on_failure")
    parsed: list[tuple[str, str, str, float | None, bool]] = []
    seen: dict[str, int] = {}
    specs: dict[str, int] = {}
    for index, entry in enumerate(raw):
        where = f"conditions[{index}]"
        if not isinstance(entry, Mapping):
            raise ProtocolError(f"Condition {index + 1} is not an object with a \"name\" and a \"condition\".",
                                field=where)
        extra = sorted(set(entry) - {"name", "condition", "severity", "family"})
        if extra:
            raise ProtocolError(f"Condition {index + 1} has unknown key(s) {', '.join(map(repr, extra))}.",
                                field=f"{where}.{extra[0]}")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ProtocolError(f"Condition {index + 1} needs a short name (letters, digits, _ . + -, at most 40, "
                                f"e.g. \"snr5\"); got {name!r}.", field=f"{where}.name")
        if name in seen:
            raise ProtocolError(f"Two conditions are named {name!r} (conditions {seen[name] + 1} and {index + 1}); "
                                "names must be unique.", field=f"{where}.name")
        seen[name] = index
        spec = entry.get("condition")
        if not isinstance(spec, str):
            raise ProtocolError(f"Condition {name!r} needs a \"condition\" spec such as \"noise:white@5db\" or "
                                "\"clean\".", field=f"{where}.condition")
        try:
            # Unchecked (None): a stand-in bank, so a stored "noise:bank" protocol still reads back.
            bank = noise_bank if noise_bank is not None else (UNCHECKED_BANK,)
            condition = parse_condition(spec, noise_bank=bank, check_files=False)
        except ConditionError as exc:
            text = str(exc)
            if "noise bank" in text and noise_bank is not None:
                text = (f"{text.rstrip('.')}: upload the noise files (WAV, 16 kHz mono) as assets of this "
                        "track first.")
            raise ProtocolError(f"Condition {name!r}: {text}", field=f"{where}.condition") from None
        canonical = condition.to_spec()
        if canonical in specs:
            raise ProtocolError(f"Conditions {raw[specs[canonical]].get('name')!r} and {name!r} are the same "
                                f"corruption ({canonical}); list each once.", field=f"{where}.condition")
        specs[canonical] = index
        severity = entry.get("severity")
        if severity is not None and (isinstance(severity, bool) or not isinstance(severity, int | float)
                                     or not math.isfinite(severity) or severity < 0):
            raise ProtocolError(f"The severity of condition {name!r} must be a number of at least 0; "
                                f"got {severity!r}.", field=f"{where}.severity")
        uses_bank = any(step.kind == "noise" and step.source == "bank" for step in condition.steps)
        parsed.append((name, canonical, _family(condition.to_steps()), severity, uses_bank))
    conditions = []
    position: dict[str, int] = {}
    for name, spec, family, severity, uses_bank in parsed:
        if family == CLEAN_FAMILY:
            conditions.append(ProtocolCondition(name, spec, family, 0.0, uses_bank))
            continue
        position[family] = position.get(family, 0) + 1
        value = float(severity) if severity is not None else float(position[family])
        conditions.append(ProtocolCondition(name, spec, family, value, uses_bank))
    return Protocol(tuple(conditions), seed=seed, summary=summary, on_failure=on_failure)


def phase_protocol(phase) -> Protocol | None:  # type: ignore[no-untyped-def]
    """The phase's protocol, or None when it has none (its models see the clean inputs only).
    The stored protocol was validated on save."""
    data = getattr(phase, "robustness_protocol", None)
    if not data:
        return None
    return parse_protocol(data)


def summarise(protocol: Protocol, scores: Mapping[str, float | None], *, greater_is_better: bool = True,
              failed_value: float | None = None) -> float | None:
    """The summary of per-condition ``scores`` (by condition name). A failed condition (None) counts as
    ``failed_value``, the worst value of the scale (``TrackScorer.worst_score``); without one, a summary
    over a failed condition is None (undefined)."""
    if any(scores.get(c.name) is None for c in protocol.conditions) and failed_value is None:
        return None
    values = {c.name: failed_value if scores.get(c.name) is None else float(scores[c.name])  # type: ignore[arg-type]
              for c in protocol.conditions}
    if protocol.summary == "mean":
        return math.fsum(values.values()) / len(values)  # type: ignore[arg-type]
    if protocol.summary == "worst":
        return min(values.values()) if greater_is_better else max(values.values())  # type: ignore[type-var]
    return _area(protocol, values)  # type: ignore[arg-type]


def _area(protocol: Protocol, values: Mapping[str, float]) -> float:
    clean = [values[c.name] for c in protocol.conditions if c.family == CLEAN_FAMILY]
    families: dict[str, list[tuple[float, float]]] = {}
    for c in protocol.conditions:
        if c.family != CLEAN_FAMILY:
            families.setdefault(c.family, []).append((c.severity, values[c.name]))
    if not families:
        return clean[0]
    areas = []
    for points in families.values():
        curve = sorted(([(0.0, clean[0])] if clean else []) + points)
        low, high = curve[0][0], curve[-1][0]
        if high == low:
            areas.append(math.fsum(y for _, y in curve) / len(curve))
            continue
        area = math.fsum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(curve, curve[1:], strict=False))
        areas.append(area / (high - low))
    return math.fsum(areas) / len(areas)


def curves(protocol: Protocol, scores: Mapping[str, float | None]) -> dict[str, list[tuple[float, float | None]]]:
    """Per family, the (severity, score) points of its curve in severity order, clean first."""
    clean = [(0.0, scores.get(c.name)) for c in protocol.conditions if c.family == CLEAN_FAMILY]
    result: dict[str, list[tuple[float, float | None]]] = {}
    for c in protocol.conditions:
        if c.family != CLEAN_FAMILY:
            result.setdefault(c.family, list(clean[:1])).append((c.severity, scores.get(c.name)))
    return {family: sorted(points, key=lambda p: p[0]) for family, points in result.items()}
