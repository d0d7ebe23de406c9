"""What of a phase's results each person may see: the one place for board visibility and reveals.

A phase's board is ``live``, ``hidden`` or ``frozen`` until its results are revealed (by the
organisers, or at the close when the phase says so). Organisers see everything at any time.

Stored boards: ``public`` and ``private`` as ranked, and for frozen phases ``frozen``, the public
board restricted to entries submitted before the freeze; teams asking for the public board of a
frozen phase are served that one.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from arena.challenges.models import BoardVisibility, EntryRule, Phase
from arena.core.errors import DomainError, NotFound, PermissionDenied

PUBLIC, PRIVATE, FROZEN = "public", "private", "frozen"
#: The boards a reader may ask for by name.
SPLITS = (PUBLIC, PRIVATE, FROZEN)


def visible_boards(phase: Phase, *, organiser: bool, now: datetime | None = None) -> dict[str, str]:
    """The boards this reader may open: the split they ask for, mapped to the stored board they read."""
    now = now or timezone.now()
    if organiser:
        boards = {PUBLIC: PUBLIC, PRIVATE: PRIVATE} if phase.has_public_split else {PRIVATE: PRIVATE}
        if phase.board_visibility == BoardVisibility.FROZEN and phase.has_public_split:
            boards[FROZEN] = FROZEN  # the board as teams see it
        return boards
    if phase.is_revealed(now):
        return {PUBLIC: PUBLIC, PRIVATE: PRIVATE} if phase.has_public_split else {PRIVATE: PRIVATE}
    if phase.board_visibility == BoardVisibility.HIDDEN or not phase.has_public_split:
        return {}
    return {PUBLIC: FROZEN if phase.is_frozen(now) else PUBLIC}


def board_to_read(phase: Phase, split: str, *, organiser: bool, now: datetime | None = None) -> str:
    """The stored board behind ``split`` for this reader; raises with the reason when they may not see it."""
    now = now or timezone.now()
    if split not in SPLITS or (split == FROZEN and phase.board_visibility != BoardVisibility.FROZEN):
        raise DomainError(f"Unknown leaderboard split '{split}'; use public or private.", code="invalid", status=400)
    boards = visible_boards(phase, organiser=organiser, now=now)
    if split in boards:
        return boards[split]
    if split == PUBLIC and not phase.has_public_split:
        where = "" if phase.is_revealed(now) else f" once {_when_revealed(phase, now)}"
        raise NotFound("This phase is scored on its hidden split only, so it has no public leaderboard; its results "
                       f"are on the private leaderboard{where}.", code="no_public_board")
    if phase.board_visibility == BoardVisibility.HIDDEN and not phase.is_revealed(now):
        raise PermissionDenied(
            f"The leaderboards of this phase are hidden until {_when_revealed(phase, now)}.",
            code="board_hidden")
    if split == FROZEN:
        raise PermissionDenied("Only organisers can open the frozen board by name; teams see it as the public "
                               "board.", code="organisers_only")
    raise PermissionDenied(f"The private leaderboard of this phase is hidden until {_when_revealed(phase, now)}.",
                           code="private_hidden")


def visible_score_splits(phase: Phase, *, organiser: bool, now: datetime | None = None) -> frozenset[str]:
    """Which scores of its own submissions a team sees (organisers: all of them)."""
    if organiser or phase.is_revealed(now):
        return frozenset({PUBLIC, PRIVATE})
    if phase.board_visibility == BoardVisibility.HIDDEN:
        return frozenset()
    return frozenset({PUBLIC})


def _when_revealed(phase: Phase, now: datetime) -> str:
    if phase.reveal_at_close and phase.closes_at > now:
        return f"the results are revealed automatically when the phase closes ({phase.closes_at:%Y-%m-%d %H:%M} UTC)"
    return "the organisers reveal the results"


def default_split(phase: Phase) -> str:
    """The board a reader gets without asking for one: the public board, or the private one on phases
    scored on a hidden split only."""
    return PUBLIC if phase.has_public_split else PRIVATE


def describe_board(phase: Phase, now: datetime | None = None) -> str:
    """The phase's board rule in participants' words, for its page."""
    now = now or timezone.now()
    if phase.is_revealed(now):
        return "The results are revealed: the public and private leaderboards are shown." if phase.has_public_split \
            else "The results are revealed: the private leaderboard is shown."
    until = _when_revealed(phase, now)
    if phase.board_visibility == BoardVisibility.HIDDEN:
        return f"Blind phase: scores and leaderboards stay hidden until {until}; you see whether each of your " \
               "submissions is scored."
    if not phase.has_public_split:
        return f"Scored on a hidden split only: there is no public leaderboard, and the results stay hidden " \
               f"until {until}."
    if phase.board_visibility == BoardVisibility.FROZEN:
        stamp = f"{phase.frozen_at:%Y-%m-%d %H:%M} UTC"
        if phase.is_frozen(now):
            return f"The public leaderboard is frozen as of {stamp}: later entries appear on it once {until}. " \
                   "Your own scores stay visible to your team."
        return f"The public leaderboard is live until {stamp}, then freezes until {until}."
    return f"The public leaderboard is live; the private one stays hidden until {until}."


def describe_entry_rule(phase: Phase) -> str:
    """Which entry of each team counts, in participants' words."""
    total = phase.limit("max_total")
    if phase.entry_rule == EntryRule.SELECTED:
        fallback = "its best public entry" if phase.has_public_split else "its last scored entry"
        return (f"Your team selects up to {phase.max_selected} final "
                f"{'entry' if phase.max_selected == 1 else 'entries'}; the best of them on the private split "
                f"counts. Without a selection, {fallback} counts.")
    if phase.entry_rule == EntryRule.LAST:
        return "Your team's last scored entry counts, on every board."
    if phase.entry_rule == EntryRule.BEST_HIDDEN:
        limit = f"at most {total} in total" if total is not None else "no total limit"
        return f"Your team's best entry on the hidden split counts ({limit})."
    return "Your team's best entry on the public split counts; its private score decides the final ranking."
