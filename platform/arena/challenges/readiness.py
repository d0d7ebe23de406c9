"""The readiness check of a challenge: what an organiser must fix before teams submit.

Re-computed on every call, from the stored configuration: each reference is read once, parsed
with its track's scorer and scored once against itself; each track's asset files are read once.
Publishing a challenge, or opening a phase, while it is not ready needs an explicit override that
is audited (``challenge_publish_check``).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from django.core.files.base import ContentFile
from django.db import transaction

import scorers
from arena.audit.services import audit_record
from arena.challenges.condition_maps import condition_map_error
from arena.challenges.media import phase_media_report, wav_problem
from arena.challenges.models import Challenge, Phase, Track
from arena.challenges.protocol_checks import phase_protocol_problem
from arena.challenges.robustness import parse_protocol
from arena.challenges.services import phase_validate_files, track_validate_scorer_config
from arena.core.errors import DomainError
from arena.datasets.models import Dataset

ProblemKind = Literal["phase", "track", "dataset", "challenge"]


@dataclass(frozen=True)
class Problem:
    """One thing to fix, and where: a phase, a track, a dataset or the challenge itself."""

    kind: ProblemKind
    id: int | None
    title: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"where": {"kind": self.kind, "id": self.id, "title": self.title}, "message": self.message}

    def __str__(self) -> str:
        return f"{self.kind} '{self.title}': {self.message}"


@dataclass(frozen=True)
class Readiness:
    ready: bool
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "problems": [problem.to_json() for problem in self.problems]}


def _readiness(problems: list[Problem]) -> Readiness:
    return Readiness(ready=not problems, problems=problems)


def challenge_readiness(challenge: Challenge) -> Readiness:
    """Every problem of the challenge: its licence and dates, its datasets, each track (scorer,
    options, assets, phases) and each phase (dates, references, candidate list, container inputs)."""
    problems = _challenge_problems(challenge)
    if challenge.pk is not None:
        tracks = challenge.tracks.prefetch_related("assets", "phases").order_by("order", "id")
        for track in tracks:
            problems += _track_problems(track, track.phases.all())
    return _readiness(problems)


def phase_readiness(phase: Phase) -> Readiness:
    """What teams of ``phase`` (saved or not) depend on: the challenge's licence and dates, the phase's
    track, and the phase itself."""
    track = phase.track
    return _readiness(_challenge_problems(track.challenge, tracks=False) + _track_problems(track, [phase]))


def challenge_publish_check(
    *, challenge: Challenge, actor, override: bool, readiness: Readiness | None = None
) -> Readiness:
    """Allow publishing ``challenge`` (or opening one of its phases) when it is ready; otherwise only with
    ``override``, which is audited with the problems. ``readiness`` is the check already made for this
    change (``challenge_readiness`` or ``phase_readiness``); computed when not given.

    Raises DomainError (code ``not_ready``, ``details['problems']``) when not ready and not overridden.
    """
    readiness = readiness if readiness is not None else challenge_readiness(challenge)
    if readiness.ready:
        return readiness
    problems = [problem.to_json() for problem in readiness.problems]
    if not override:
        raise DomainError(not_ready_message(readiness), code="not_ready", details={"problems": problems})
    with transaction.atomic():
        audit_record(actor=actor, action="challenge.publish_not_ready", target=challenge, challenge=challenge,
                     details={"problems": problems})
    return readiness


def not_ready_message(readiness: Readiness) -> str:
    listed = "; ".join(str(problem).rstrip(".") for problem in readiness.problems)
    return f"The challenge is not ready: {listed}. Fix these, or tick \"publish even though not ready\"."


# -- the checks ------------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _challenge_problems(challenge: Challenge, *, tracks: bool = True) -> list[Problem]:
    def problem(message: str) -> Problem:
        return Problem("challenge", challenge.pk, challenge.title, message)

    problems = []
    if challenge.starts_at and challenge.ends_at and challenge.ends_at <= challenge.starts_at:
        problems.append(problem(f"The challenge ends ({_when(challenge.ends_at)}) before it starts "
                                f"({_when(challenge.starts_at)})."))
    if challenge.pk is None or not challenge.licences.filter(dataset__isnull=True).exists():
        problems.append(problem("The challenge has no licence; add one (teams accept it before they take part)."))
    if challenge.pk is None:
        return problems
    if tracks and not challenge.tracks.exists():
        problems.append(problem("The challenge has no track."))
    if challenge.ends_at:
        for dataset in Dataset.objects.filter(challenge=challenge, files__release_at__gt=challenge.ends_at) \
                .distinct().order_by("order", "id"):
            problems.append(Problem("dataset", dataset.pk, dataset.title,
                                    f"Files of this dataset are released after the challenge ends "
                                    f"({_when(challenge.ends_at)})."))
    return problems


def _track_problems(track: Track, phases) -> list[Problem]:
    def problem(message: str) -> Problem:
        return Problem("track", track.pk, track.title, message)

    try:
        options = track_validate_scorer_config(scorer_key=track.scorer_key, scorer_options=track.scorer_options,
                                               tie_break_metrics=track.tie_break_metrics or [])
    except DomainError as exc:
        return [problem(exc.message)]
    scorer = scorers.get_scorer(track.scorer_key)
    problems = []
    phases = list(phases)
    if not phases:
        problems.append(problem("The track has no phase."))
    with tempfile.TemporaryDirectory(prefix="arena-readiness-") as tmp:
        assets_ok, assets = _materialise_assets(track, scorer, Path(tmp) / "assets", problems.append, problem)
        for phase in phases:
            problems += _phase_problems(phase, track, scorer, options, assets if assets_ok else False)
    return problems


def _materialise_assets(track, scorer, folder: Path, report, problem) -> tuple[bool, Path | None]:
    """Copy the track's asset files into ``folder`` and check them with the scorer; (ok, folder or None)."""
    stored = list(track.assets.all()) if track.pk is not None else []
    if not stored and not scorer.needs_assets:
        return True, None
    folder.mkdir(parents=True)
    unreadable = []
    for asset in stored:
        try:
            with asset.file.open("rb") as src, (folder / Path(asset.path).name).open("wb") as out:
                shutil.copyfileobj(src, out, length=1 << 20)
        except OSError:
            unreadable.append(asset.path)
    if unreadable:
        report(problem(f"Asset file(s) missing from storage: {', '.join(unreadable)}; upload them again."))
        return False, None
    try:
        scorer.validate_assets(folder, scorer.validate_options(track.scorer_options))
    except scorers.ScorerError as exc:
        # The scorer names the missing or malformed files; the temporary folder means nothing to organisers.
        message = str(exc).replace(f"'{folder}'", "of the track").replace(str(folder), "assets")
        report(problem(f"The scorer's asset files are missing or invalid: {message}"))
        return False, None
    return True, folder


def _phase_problems(phase: Phase, track: Track, scorer, options: dict, assets: Path | None | bool) -> list[Problem]:
    def problem(message: str) -> Problem:
        return Problem("phase", phase.pk, f"{track.title} / {phase.title}", message)

    problems = []
    challenge = track.challenge
    if phase.opens_at and phase.closes_at and phase.closes_at <= phase.opens_at:
        problems.append(problem(f"The phase closes ({_when(phase.closes_at)}) before it opens "
                                f"({_when(phase.opens_at)})."))
    if phase.opens_at and phase.opens_at < challenge.starts_at:
        problems.append(problem(f"The phase opens ({_when(phase.opens_at)}) before the challenge starts "
                                f"({_when(challenge.starts_at)})."))
    if phase.closes_at and phase.closes_at > challenge.ends_at:
        problems.append(problem(f"The phase closes ({_when(phase.closes_at)}) after the challenge ends "
                                f"({_when(challenge.ends_at)})."))
    if track.accepts_containers and not phase.container_inputs:
        problems.append(problem("The track accepts containerised models but the phase has no container inputs "
                                "(the hidden test inputs models read at /input)."))
    problems += [problem(message) for message in _robustness_problems(phase, track)]
    golds: dict[str, bytes] = {}
    for split, reference in (("public", phase.reference_public), ("private", phase.reference_private)):
        if not reference:
            continue
        try:
            golds[split] = _read(reference)
        except OSError:
            problems.append(problem(f"The {split} reference '{reference.name}' is missing from storage; "
                                    "upload it again."))
    if not phase.reference_public and not phase.reference_private:
        problems.append(problem("The phase has no reference; upload a public or a private reference."))
        return problems
    if len(golds) < bool(phase.reference_public) + bool(phase.reference_private):
        return problems
    pool = None
    if phase.candidates:
        try:
            pool = _read(phase.candidates)
        except OSError:
            problems.append(problem(f"The candidate list '{phase.candidates.name}' is missing from storage; "
                                    "upload it again."))
            return problems
    try:  # the same parse and pool rules as the phase form
        phase_validate_files(
            track=track, candidates=ContentFile(pool, name="candidates") if pool is not None else None,
            **{f"reference_{split}": ContentFile(golds[split], name=split) if split in golds else None
               for split in ("public", "private")})
    except DomainError as exc:
        problems.append(problem(exc.message))
        return problems
    if (map_problem := condition_map_error(phase, golds=golds)) is not None:
        problems.append(problem(map_problem))
    if assets is False:
        return problems  # reported on the track; the references cannot be scored without them
    problems += [problem(message) for message in _self_score_problems(scorer, options, golds, assets)]
    return problems


def _robustness_problems(phase: Phase, track: Track) -> list[str]:
    """The protocol still fits the track, and the media it corrupts (the container inputs, the noise bank)
    are readable; the media report is made once per upload of the inputs (``arena.challenges.media``)."""
    if not phase.robustness_protocol:
        return []
    invalid = phase_protocol_problem(phase)
    if invalid is not None:
        return [f"The robustness protocol does not fit the track any more: {invalid}"]
    protocol = parse_protocol(phase.robustness_protocol)
    messages = []
    if protocol.uses_noise_bank:
        messages += _noise_bank_problems(track)
    if not (track.accepts_containers and phase.container_inputs):
        return messages  # no inputs: reported above; file-only tracks: the condition map gives the conditions
    report = phase_media_report(phase)
    if report is None:
        return [*messages, "The container inputs are being checked (each WAV and PNG file is read once per upload); "
                "look again in a few minutes."]
    if report["problem_count"]:
        listed = "; ".join(f"{p['file']} ({p['reason']})" for p in report["problems"])
        more = report["problem_count"] - len(report["problems"])
        messages.append(f"{report['problem_count']} media file(s) of the container inputs cannot be read, so the "
                        f"protocol's corruptions cannot be applied: {listed}{f'; and {more} more' if more else ''}. "
                        "Audio must be 16 kHz mono 16-bit WAV, frames 8-bit grayscale or RGB PNG; fix the files and "
                        "upload the inputs again.")
    elif not report["wav_files"] and not report["png_files"]:
        messages.append("The container inputs hold no media (<key>.wav audio, <key>/*.png frames), so the "
                        "protocol's corruptions change nothing; upload the clips' audio and frames.")
    if any("noise:babble" in condition.spec for condition in protocol.conditions) and report["clips_with_audio"] < 2:
        messages.append(f"noise:babble mixes other clips of the test set, but the container inputs hold "
                        f"{report['clips_with_audio']} clip(s) with audio; it needs at least 2 (or drop babble).")
    return messages


def _noise_bank_problems(track: Track) -> list[str]:
    bad = []
    with tempfile.TemporaryDirectory(prefix="arena-noise-bank-") as tmp:
        for asset in track.assets.all():
            if not asset.path.lower().endswith(".wav"):
                continue
            local = Path(tmp) / "clip.wav"
            try:
                with asset.file.open("rb") as src, local.open("wb") as out:
                    shutil.copyfileobj(src, out, length=1 << 20)
            except OSError:
                bad.append(f"{asset.path} (missing from storage)")
                continue
            reason, samples = wav_problem(local)
            if reason or not samples:
                bad.append(f"{asset.path} ({reason or 'silent'})")
    if not bad:
        return []
    return [f"Noise-bank file(s) of the track cannot be used by noise:bank: {'; '.join(bad)}. Upload them again as "
            "16 kHz mono 16-bit WAV files with sound."]


def _self_score_problems(scorer, options: dict, golds: dict[str, bytes], assets: Path | None) -> list[str]:
    """Each reference scored against itself must reach the scorer's best value.

    The reference is parsed as a reference and given to the metric as both sides: a reference may hold
    markers a prediction may not (ABAW's -5 and -1 for frames without a label), which the metric leaves out.
    """
    best = scorer.best_score if scorer.best_score is not None else 1.0 if scorer.greater_is_better else 0.0
    messages = []
    options = scorer.validate_options(options)
    try:
        loaded = scorer.load_assets(assets, options)
    except scorers.ScorerError as exc:
        return [f"The scorer cannot load its assets: {exc}"]
    for split, gold in golds.items():
        try:
            table = scorer.parse_file(gold, file="gold", options=options)
            score = scorer.compute(table, table, options=options, assets=loaded).score
        except scorers.ScorerError as exc:
            messages.append(f"The {split} reference cannot be scored against itself: {exc}")
            continue
        if not math.isclose(score, best, abs_tol=1e-9):
            messages.append(f"The {split} reference scored against itself gives {score:.6g}, not the best value "
                            f"{best:g}; check the reference and the scorer options.")
    return messages


def _read(file) -> bytes:
    file.open("rb")
    try:
        file.seek(0)
        return file.read()
    finally:
        file.seek(0)
