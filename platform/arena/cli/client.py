"""The HTTP side: one session per run, the API's error shape turned into ``ApiError``, polite retries."""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Any

import requests

from arena.cli import __version__
from arena.cli.config import Credentials
from arena.cli.errors import ApiError, NetworkError, NotSignedIn

USER_AGENT = f"arena-cli/{__version__} requests/{requests.__version__}"
#: (connect, read) timeouts in seconds.
TIMEOUT = (10, 120)
#: Answers that a proxy or a restarting server gives for a moment; worth another try.
TRANSIENT_STATUSES = frozenset({502, 503, 504})
#: Retries of a failed request that is safe to repeat; ARENA_RETRIES changes it (0: never retry). With the
#: waits below, the default rides out about a minute and a half of a site that is down or restarting.
RETRIES = int(os.environ["ARENA_RETRIES"]) if os.environ.get("ARENA_RETRIES", "").isdigit() else 10
#: The longest wait between retries, whatever a server's Retry-After asks for.
MAX_RETRY_WAIT = 30
#: The longest wait for a throttled request before giving up.
MAX_THROTTLE_WAIT = 60


def api_error(response: requests.Response) -> ApiError:
    """The server's ``{code, message, details}`` from an error response (or a plain description)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
        return ApiError(response.status_code, str(body.get("code") or "error"), body["message"], details)
    reason = response.reason or "error"
    return ApiError(response.status_code, "http_error",
                    f"The server answered {response.status_code} {reason} for {response.request.method} "
                    f"{response.url}.")


def first_line(text: str) -> str:
    return " ".join(text.split())


def reason(exc: Exception) -> str:
    """The operating system's words for a failed connection, without urllib3's wrapping."""
    text = first_line(str(exc))
    found = re.findall(r"\[Errno -?\d+\] [^'\")\]]+", text)
    return found[-1] if found else type(exc).__name__


class ApiClient:
    """Requests to one site's ``/api/v1/``, authenticated with a token when there is one."""

    def __init__(self, credentials: Credentials) -> None:
        self.server = credentials.server
        self.token = credentials.token
        self.base = f"{self.server}/api/v1"
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if self.token:
            self.session.headers["Authorization"] = f"Token {self.token}"

    def require_token(self) -> None:
        if not self.token:
            raise NotSignedIn(f"Not signed in to {self.server}: run `arena login` (or set ARENA_TOKEN).")

    def request(self, method: str, path: str, *, retries: int = RETRIES, **kwargs: Any) -> requests.Response:
        """Send one request; retry network failures, 502/503/504 and throttling up to ``retries`` times.

        Only call with ``retries`` > 0 for requests that are safe to repeat (reads, or writes
        carrying an idempotency key). Raises ``ApiError`` for any 4xx/5xx and ``NetworkError``.
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.base}{path}"
        kwargs.setdefault("timeout", TIMEOUT)
        attempt = 0
        while True:
            attempt += 1
            rewind = kwargs.get("data")
            if hasattr(rewind, "seek"):
                rewind.seek(0)
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.exceptions.InvalidURL as exc:
                raise NetworkError(f"Invalid server address {self.server!r}: {first_line(str(exc))}") from None
            except requests.exceptions.SSLError as exc:
                # Not transient: a server without TLS (or with a broken certificate) answers the same again.
                plain = self.server.replace("https://", "http://", 1)
                raise NetworkError(f"{self.server} did not complete a TLS (https) handshake ({reason(exc)}). If "
                                   f"the site runs without TLS, as `make demo` does, give its address with "
                                   f"http://, e.g. `arena login --server {plain}`.") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt <= retries:
                    self._pause(attempt, f"cannot reach {self.server} ({type(exc).__name__})")
                    continue
                raise NetworkError(f"Cannot reach {self.server} ({reason(exc)}); check the address and that "
                                   "the site is up.") from None
            if response.status_code < 400:
                return response
            error = api_error(response)
            if attempt <= retries and response.status_code in TRANSIENT_STATUSES:
                self._pause(attempt, f"the server answered {response.status_code}",
                            asked=response.headers.get("Retry-After"))
                continue
            if attempt <= retries and response.status_code == 429 and error.code == "throttled":
                wait = error.details.get("retry_after_seconds")
                if isinstance(wait, int) and wait <= MAX_THROTTLE_WAIT:
                    print(f"throttled by the server; retrying in {wait} s", file=sys.stderr)
                    time.sleep(max(wait, 1))
                    continue
            raise error

    @staticmethod
    def _pause(attempt: int, why: str, *, asked: str | None = None) -> None:
        """Wait before the next attempt: as long as the server's Retry-After (in seconds) asks, up to
        MAX_RETRY_WAIT; without one, 1, 2, 4, 8, then 10 s."""
        delay = min(2 ** (attempt - 1), 10)
        if asked is not None and asked.strip().isdigit():
            delay = max(1, min(int(asked), MAX_RETRY_WAIT))
        print(f"{why}; retrying in {delay} s", file=sys.stderr)
        time.sleep(delay)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    def post(self, path: str, *, json: Any = None, retries: int = 0) -> Any:
        return self.request("POST", path, json=json, retries=retries).json()
