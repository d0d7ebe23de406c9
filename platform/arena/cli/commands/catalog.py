"""``arena challenges``: what can be entered, down to the phase ids that ``arena submit`` takes."""

from __future__ import annotations

from argparse import Namespace
from datetime import UTC, datetime

from arena.cli.client import ApiClient
from arena.cli.config import load_credentials
from arena.cli.errors import OK
from arena.cli.output import emit_json, say, short_time


def _phase_state(phase: dict) -> str:
    if phase["is_open"]:
        return f"open until {short_time(phase['closes_at'])}"
    if datetime.fromisoformat(phase["closes_at"]) <= datetime.now(UTC):
        return f"closed {short_time(phase['closes_at'])}"
    return f"opens {short_time(phase['opens_at'])}"


def run_challenges(args: Namespace) -> int:
    client = ApiClient(load_credentials())
    challenges = client.get("/challenges")
    if args.json:
        emit_json(challenges)
        return OK
    if not challenges:
        say(f"No challenges on {client.server}.")
    for challenge in challenges:
        say(f"{challenge['slug']}  {challenge['title']}  ({short_time(challenge['starts_at'])} – "
            f"{short_time(challenge['ends_at'])})")
        for track in challenge["tracks"]:
            say(f"  track {track['slug']}: {track['title']}  [scorer {track['scorer_key']}]")
            for phase in track["phases"]:
                say(f"    phase {phase['id']:<6} {phase['title']} ({phase['kind']}), {_phase_state(phase)}")
        say("")
    return OK
