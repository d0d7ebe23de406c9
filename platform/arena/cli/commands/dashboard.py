"""``arena me`` (the dashboard of ``/me/``) and ``arena datasets`` (file ids for ``arena download``)."""

from __future__ import annotations

from argparse import Namespace

from arena.cli.client import ApiClient
from arena.cli.config import load_credentials
from arena.cli.errors import OK
from arena.cli.output import emit_json, say, short_time, table
from arena.cli.progress import human_size


def _limit(use: dict) -> str:
    if use["allowed"] is None:
        return "no limit"
    if use["limit"] == "per_day":
        return f"{use['left']} of {use['allowed']} left (resets {short_time(use['resets_at'])})"
    if use["limit"] == "in_flight":
        return f"{use['used']} of {use['allowed']} being scored"
    return f"{use['left']} of {use['allowed']} left"


def _step(step: dict, server: str) -> str:
    where = f" {server}{step['url']}" if step["url"] and not step["can_submit"] else ""
    why = f" ({step['detail']})" if step["detail"] and step["detail"] != step["text"] else ""
    return f"{step['text']}{why}{where}"


def run_me(args: Namespace) -> int:
    client = ApiClient(load_credentials())
    client.require_token()
    me = client.get("/me")
    if args.json:
        emit_json({"server": client.server, **me})
        return OK
    say(f"{me['username']} on {client.server}")
    if not me["teams"]:
        say("No team yet: create or join one on a challenge's team page.")
    for team in me["teams"]:
        say("")
        say(f"{team['challenge']}: team '{team['team']}'")
        say(f"  next step: {_step(team['next_step'], client.server)}")
        for step in team["dataset_steps"]:
            say(f"  to download: {_step(step, client.server)}")
        for phase in team["open_phases"]:
            say(f"  phase {phase['id']} {phase['track']}/{phase['title']} (closes {short_time(phase['closes_at'])}): "
                f"{phase['next_step']['text']}")
            limits = {use["limit"]: _limit(use) for use in phase["limits"]}
            if limits:
                say(f"    today: {limits['per_day']}; in total: {limits['total']}; "
                    f"in flight: {limits['in_flight']}")
    say("")
    if me["submissions"]:
        say(f"Recent submissions ({len(me['submissions'])}):")
        say(table(["id", "challenge", "phase", "team", "method", "status", "submitted"],
                  [[s["id"], s["challenge"], s["phase"], s["team"], s["method_name"], s["status"],
                    short_time(s["created_at"])] for s in me["submissions"]]))
    else:
        say("No submissions yet.")
    return OK


def run_datasets(args: Namespace) -> int:
    client = ApiClient(load_credentials())
    datasets = client.get(f"/challenges/{args.challenge}/datasets")
    if args.json:
        emit_json(datasets)
        return OK
    if not datasets:
        say(f"No datasets published for '{args.challenge}' yet.")
    for dataset in datasets:
        say(f"{dataset['slug']}  {dataset['title']}")
        licence = dataset["licence"]
        if licence is not None and licence["message"]:
            say(f"  licence '{licence['title']}' (version {licence['version']}): {licence['message']}")
        if dataset["files"]:
            rows = [[f["id"], f["name"], f["kind"], human_size(f["size"]), f["sha256"]] for f in dataset["files"]]
            say("\n".join("  " + line for line in table(["id", "name", "kind", "size", "sha256"], rows).splitlines()))
        else:
            say("  no files yet")
        say("")
    if any(d["files"] for d in datasets):
        say("Download one with: arena download <id>")
    return OK
