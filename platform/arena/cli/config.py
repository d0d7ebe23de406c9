"""Where the client keeps the server address and token: ``~/.config/affectarena/credentials.json``.

The file is written with mode 0600 (its folder 0700). ``ARENA_SERVER`` and ``ARENA_TOKEN`` override
it; a stored token is only ever sent to the server it was stored for.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SERVER = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Credentials:
    server: str
    token: str | None


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "affectarena"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def normalise_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        url = f"https://{url}"
    return url


def _stored() -> dict:
    path = credentials_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        print(f"warning: ignoring unreadable {path}; run `arena login` again", file=sys.stderr)
        return {}
    if path.stat().st_mode & 0o077:
        print(f"warning: {path} is readable by others; run: chmod 600 {path}", file=sys.stderr)
    return data if isinstance(data, dict) else {}


def load_credentials() -> Credentials:
    """The server and token to use: the environment first, then the stored file."""
    stored = _stored()
    stored_server = normalise_server(stored["server"]) if isinstance(stored.get("server"), str) else None
    server = normalise_server(os.environ.get("ARENA_SERVER") or stored_server or DEFAULT_SERVER)
    token = os.environ.get("ARENA_TOKEN") or None
    if token is None and stored_server == server and isinstance(stored.get("token"), str):
        token = stored["token"]
    return Credentials(server=server, token=token)


def save_credentials(credentials: Credentials) -> Path:
    """Store the server and token, readable by the owner only; returns the file's path."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")  # created with mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"server": credentials.server, "token": credentials.token}, handle, indent=2)
            handle.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
