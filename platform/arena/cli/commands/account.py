"""``arena login`` and ``arena whoami``."""

from __future__ import annotations

import getpass
import os
import sys
from argparse import Namespace
from urllib.parse import urlsplit

from arena.cli.client import ApiClient
from arena.cli.config import Credentials, load_credentials, normalise_server, save_credentials
from arena.cli.errors import OK, UsageError
from arena.cli.output import emit_json, note, say, short_time

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _read_token(server: str) -> str:
    prompt = f"API token (create one at {server}/accounts/tokens/): "
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline()


def _describe(me: dict) -> str:
    auth = me["auth"]
    if auth["method"] != "token":
        return f"{me['username']} (session)"
    expiry = short_time(auth["token_expires_at"]) or "never"
    return f"{me['username']} with token '{auth['token_name']}' (arena_{auth['token_prefix']}_…, expires {expiry})"


def run_login(args: Namespace) -> int:
    current = load_credentials()
    server = normalise_server(args.server or current.server)
    token = (args.token or "").strip() or _read_token(server).strip()
    if not token:
        raise UsageError("No token given: pass --token or paste it when asked.")
    if urlsplit(server).scheme == "http" and urlsplit(server).hostname not in _LOOPBACK:
        note(f"warning: {server} is not HTTPS; the token travels unencrypted")
    me = ApiClient(Credentials(server=server, token=token)).get("/me")
    path = save_credentials(Credentials(server=server, token=token))
    if args.json:
        emit_json({"server": server, "username": me["username"], "token_name": me["auth"]["token_name"],
                   "token_expires_at": me["auth"]["token_expires_at"], "credentials_file": str(path)})
    else:
        say(f"Signed in to {server} as {_describe(me)}.")
        say(f"Saved to {path} (readable by you only).")
        if os.environ.get("ARENA_TOKEN"):
            note("note: ARENA_TOKEN is set and takes precedence over the saved token")
    return OK


def run_whoami(args: Namespace) -> int:
    client = ApiClient(load_credentials())
    client.require_token()
    me = client.get("/me")
    if args.json:
        emit_json({"server": client.server, **me})
        return OK
    say(f"{_describe(me)} on {client.server}")
    if me["organises"]:
        say(f"Organiser of: {', '.join(me['organises'])}")
    for team in me["teams"]:
        say(f"  {team['challenge']}: team '{team['team']}' ({team['role']}; "
            f"participation {team['participation_status'] or 'not requested'})")
    if not me["teams"]:
        say("  No team yet: create or join one on a challenge's team page.")
    return OK
