"""Robustness conditions: parse and render the spec of a condition. Pure Python, no torch.

A condition is one or more corruptions joined by `+`, applied in order (audio steps to the
audio, video steps to the frames); `clean` is the condition with none::

    noise:white@5db            white noise at 5 dB SNR (also pink, bank, babble)
    blur:2                     MER blur: pyrDown then pyrUp, rate 1, 2, 4, 8, ...
    gauss:1.5                  Gaussian blur, sigma in pixels
    jpeg:50                    JPEG re-compression at quality 1..100
    occlude:0.25               a black square, its side a fraction of the shorter image side
    drop:0.3                   each frame after the first dropped with this probability
    mute                       silent audio
    blank                      black frames

The same condition as a list of steps (what `Condition.to_steps` returns)::

    [{"kind": "noise", "source": "white", "snr_db": 5.0}, {"kind": "blur", "rate": 2}]

`parse_condition` raises ConditionError with a message naming the mistake; the Django admin
can call it to validate a robustness protocol without torch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

NOISE_SOURCES = ("white", "pink", "bank", "babble")
# Corruption kind -> name of its one parameter (None: no parameter).
PARAMETERS: dict[str, str | None] = {
    "blank": None,
    "blur": "rate",
    "drop": "probability",
    "gauss": "sigma",
    "jpeg": "quality",
    "mute": None,
    "noise": "snr_db",
    "occlude": "fraction",
}
AUDIO_KINDS = frozenset({"noise", "mute"})
VIDEO_KINDS = frozenset({"blur", "gauss", "jpeg", "occlude", "drop", "blank"})


class ConditionError(ValueError):
    """A condition spec that cannot be applied; the message names the mistake."""


@dataclass(frozen=True)
class Corruption:
    """One step of a condition: `kind` (a key of PARAMETERS), its parameter `value` (None for
    mute and blank) and, for noise, its `source`."""

    kind: str
    value: float | int | None = None
    source: str | None = None

    def to_spec(self) -> str:
        if self.kind == "noise":
            return f"noise:{self.source}@{_number(self.value)}db"
        if self.value is None:
            return self.kind
        return f"{self.kind}:{_number(self.value)}"

    def to_step(self) -> dict[str, object]:
        step: dict[str, object] = {"kind": self.kind}
        if self.source is not None:
            step["source"] = self.source
        name = PARAMETERS[self.kind]
        if name is not None:
            step[name] = self.value
        return step


@dataclass(frozen=True)
class Condition:
    """Corruptions applied in order, plus the organiser's noise bank (WAV paths) when a step
    draws from it. `name` (the canonical spec) is what seeds each clip's random draws."""

    steps: tuple[Corruption, ...] = ()
    noise_bank: tuple[str, ...] = field(default=(), compare=False)

    @property
    def name(self) -> str:
        return self.to_spec()

    def to_spec(self) -> str:
        return "+".join(step.to_spec() for step in self.steps) or "clean"

    def to_steps(self) -> list[dict[str, object]]:
        return [step.to_step() for step in self.steps]


def _number(value: float | int | None) -> str:
    """`5.0` -> `5`, `1.5` -> `1.5`: the shortest text that parses back to the same value."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def parse_condition(
    spec: str | Sequence[Mapping[str, object]], *, noise_bank: Sequence[str] = (), check_files: bool = True
) -> Condition:
    """Parse `spec` (a string like ``"noise:white@5db+blur:2"`` or a list of step dicts) into a
    Condition. `noise_bank` lists the WAV files `noise:bank` draws from; each must exist (unless
    `check_files` is false: the names are then only required to end in .wav).

    >>> parse_condition("noise:pink@-5db+blur:4").to_steps()
    [{'kind': 'noise', 'source': 'pink', 'snr_db': -5.0}, {'kind': 'blur', 'rate': 4}]
    >>> parse_condition("blur:3")
    Traceback (most recent call last):
    ...
    sandboxes.corruptions.spec.ConditionError: The rate of "blur:3" must be 1, 2, 4, 8, ... (a power of two); got 3.
    """
    if isinstance(spec, str):
        steps = _parse_string(spec)
    elif isinstance(spec, Sequence):
        if len(spec) == 0:
            raise ConditionError("The list of corruptions is empty; use the spec \"clean\" for none.")
        steps = tuple(_parse_step(step, index) for index, step in enumerate(spec))
    else:
        raise ConditionError(f"A condition is a string or a list of steps, not {type(spec).__name__}.")
    bank = tuple(str(path) for path in noise_bank)
    if any(step.kind == "noise" and step.source == "bank" for step in steps):
        if not bank:
            raise ConditionError("noise:bank needs a noise bank, but the list of noise files is empty.")
        for path in bank:
            if check_files and not os.path.isfile(path):
                raise ConditionError(f"Noise bank file not found: {path}")
            if not path.lower().endswith(".wav"):
                raise ConditionError(f"Noise bank files must be WAV files: {path}")
    return Condition(steps=steps, noise_bank=bank)


def _parse_string(spec: str) -> tuple[Corruption, ...]:
    text = spec.strip()
    if not text:
        raise ConditionError("The condition is empty; use \"clean\" for no corruption.")
    if text == "clean":
        return ()
    steps = []
    for part in text.split("+"):
        part = part.strip()
        if not part:
            raise ConditionError(f"Empty corruption in \"{spec}\" (two `+` in a row, or one at an end).")
        steps.append(_parse_part(part))
    return tuple(steps)


def _parse_part(part: str) -> Corruption:
    kind, colon, argument = part.partition(":")
    kind = kind.strip()
    if kind not in PARAMETERS:
        if kind == "clean":
            raise ConditionError("\"clean\" cannot be combined with corruptions.")
        known = ", ".join(sorted(PARAMETERS))
        raise ConditionError(f"Unknown corruption \"{kind}\" in \"{part}\"; known: {known}.")
    argument = argument.strip()
    if PARAMETERS[kind] is None:
        if colon:
            raise ConditionError(f"\"{kind}\" takes no parameter; got \"{part}\".")
        return Corruption(kind)
    if not argument:
        raise ConditionError(f"\"{kind}\" needs a {PARAMETERS[kind]}, e.g. \"{_EXAMPLES[kind]}\"; got \"{part}\".")
    if kind == "noise":
        source, at, level = argument.partition("@")
        if not at:
            raise ConditionError(f"\"{part}\" gives no SNR; write e.g. \"noise:white@5db\".")
        level = level.strip()
        number = level[:-2] if level.lower().endswith("db") else level
        return _checked(kind, _number_of(number, f"The SNR of \"{part}\"", kind), source.strip(), part)
    return _checked(kind, _number_of(argument, f"The {PARAMETERS[kind]} of \"{part}\"", kind), None, part)


_EXAMPLES = {"noise": "noise:white@5db", "blur": "blur:2", "gauss": "gauss:1.5", "jpeg": "jpeg:50",
             "occlude": "occlude:0.25", "drop": "drop:0.3"}


def _number_of(text: str, what: str, kind: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConditionError(f"{what} is not a number: \"{text}\" (write e.g. \"{_EXAMPLES[kind]}\").") from None
    if not math.isfinite(value):
        raise ConditionError(f"{what} is not a finite number: \"{text}\".")
    return value


def _parse_step(step: object, index: int) -> Corruption:
    if not isinstance(step, Mapping):
        raise ConditionError(f"Step {index + 1} is not a mapping with a \"kind\": {step!r}.")
    kind = step.get("kind")
    if kind not in PARAMETERS:
        known = ", ".join(sorted(PARAMETERS))
        raise ConditionError(f"Unknown corruption \"{kind}\" in step {index + 1}; known: {known}.")
    name = PARAMETERS[kind]
    allowed = {"kind"} | ({"source"} if kind == "noise" else set()) | ({name} if name else set())
    extra = sorted(set(step) - allowed)
    if extra:
        raise ConditionError(f"Step {index + 1} ({kind}) has unexpected keys: {', '.join(map(str, extra))}.")
    if name is None:
        return Corruption(kind)
    what = f"The {name} of step {index + 1} ({kind})"
    if name not in step:
        raise ConditionError(f"{what} is missing.")
    raw = step[name]
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ConditionError(f"{what} is not a number: {raw!r}.")
    value = _number_of(str(raw), what, kind)
    source = step.get("source") if kind == "noise" else None
    return _checked(kind, value, source, f"step {index + 1}")


def _checked(kind: str, value: float, source: object, where: str) -> Corruption:
    """Range checks, and the parameter as an int where the corruption counts."""
    if kind == "noise":
        if source not in NOISE_SOURCES:
            raise ConditionError(
                f"Unknown noise source \"{source}\" in \"{where}\"; known: {', '.join(NOISE_SOURCES)}."
            )
        return Corruption(kind, value, str(source))
    if kind == "blur":
        rate = int(value)
        if rate != value or rate < 1 or rate & (rate - 1):
            raise ConditionError(
                f"The rate of \"{where}\" must be 1, 2, 4, 8, ... (a power of two); got {_number(value)}."
            )
        return Corruption(kind, rate)
    if kind == "jpeg":
        quality = int(value)
        if quality != value or not 1 <= quality <= 100:
            raise ConditionError(
                f"The quality of \"{where}\" must be a whole number from 1 to 100; got {_number(value)}."
            )
        return Corruption(kind, quality)
    if kind == "gauss" and value <= 0:
        raise ConditionError(f"The sigma of \"{where}\" must be above 0; got {_number(value)}.")
    if kind == "occlude" and not 0 < value <= 1:
        raise ConditionError(f"The fraction of \"{where}\" must be in (0, 1]; got {_number(value)}.")
    if kind == "drop" and not 0 <= value < 1:
        raise ConditionError(f"The probability of \"{where}\" must be in [0, 1); got {_number(value)}.")
    return Corruption(kind, value)
