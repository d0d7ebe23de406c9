"""The rules a phase's robustness protocol must meet on its track: checked when the phase is saved
(``Phase.clean``, so the admin, the organiser API and the demo loader all apply them) and again by
the readiness check (the track may have changed since)."""

from __future__ import annotations

from django.conf import settings

import scorers
from arena.challenges.robustness import ProtocolError, parse_protocol


def track_noise_bank(track) -> list[str]:  # type: ignore[no-untyped-def]
    """The track's noise-bank files: the paths of its assets that are WAV files."""
    if track.pk is None:
        return []
    return sorted(path for path in track.assets.values_list("path", flat=True) if path.lower().endswith(".wav"))


def phase_protocol_problem(phase) -> str | None:  # type: ignore[no-untyped-def]
    """What is wrong with ``phase.robustness_protocol`` on its track, where and how to fix it; None when
    it is fine or there is none."""
    data = phase.robustness_protocol
    if data in (None, {}, ""):
        return None
    track = phase.track
    bank = track_noise_bank(track)
    try:
        protocol = parse_protocol(data, noise_bank=bank)
    except ProtocolError as exc:
        message = exc.message
        if "noise bank" in message and not bank:
            assets = sorted(track.assets.values_list("path", flat=True)) if track.pk is not None else []
            message += (f" The track's assets ({', '.join(assets)}) hold no .wav file." if assets
                        else " The track has no assets yet.")
        return f"{exc.field}: {message}" if exc.field else message
    if track.accepts_files and not phase.condition_map:
        only = "only" if not track.accepts_containers else "as well as models"
        return (f"This track takes prediction files {only}; an uploaded file's per-condition scores come from a "
                "condition map, without which it would be ranked on the clean inputs beside models ranked on "
                "every condition. Upload one (a CSV \"key,condition\" naming the condition each test key was "
                "recorded under) with the phase's references"
                + (", or remove the protocol." if not track.accepts_containers
                   else ", or turn off prediction files for this track."))
    if protocol.on_failure == "condition":
        try:
            worst = scorers.get_scorer(track.scorer_key).worst_score
        except scorers.ScorerError:
            worst = 0.0  # an unknown scorer is reported on the track itself
        if worst is None:
            return (f"on_failure: \"condition\" scores a failed condition at the lowest score of the scale, but "
                    f"this track's scorer ({track.scorer_key}) has no lowest score (an unbounded error term), so "
                    "a model could gain by failing a hard condition. Use \"on_failure\": \"submission\" (a failed "
                    "condition then fails the whole submission).")
    if track.accepts_containers:
        count, per_condition = len(protocol.conditions), track.container_wall_seconds
        limit = settings.ARENA_MAX_CONTAINER_WALL_SECONDS
        if count * per_condition > limit:
            return (f"conditions: {count} conditions × {per_condition} s per run (the track's container "
                    f"wall-clock limit) = {count * per_condition} s, more than this site's maximum of {limit} s "
                    f"per model (ARENA_MAX_CONTAINER_WALL_SECONDS). Lower the track's wall-clock limit to at most "
                    f"{limit // count} s, or drop conditions.")
    return None
