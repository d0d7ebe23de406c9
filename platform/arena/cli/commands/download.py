"""``arena download FILE_ID``: a dataset file through a signed link, resumable, checked against its sha256.

Bytes go to ``<out>/arena-<id>-<sha256[:12]>.part`` first; a later run resumes that part with an HTTP
Range request (on a fresh link). The part becomes the named file only once its sha256 matches the
API's value; on a mismatch it is deleted.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from argparse import Namespace
from email.message import Message
from pathlib import Path

import requests

from arena.cli.client import RETRIES, TIMEOUT, USER_AGENT, ApiClient, api_error, first_line
from arena.cli.config import load_credentials
from arena.cli.errors import OK, CliError, NetworkError
from arena.cli.output import emit_json, say
from arena.cli.progress import Progress, human_size

CHUNK = 64 * 1024
#: Links expire after minutes; a long or resumed download asks for a fresh one this many times.
LINK_RENEWALS = 3
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class _LinkExpired(Exception):
    """The signed link stopped working: ask the API for a new one."""


class _StartOver(Exception):
    """The server cannot continue the part file: fetch the file from its first byte."""


def file_name_from(response: requests.Response, fallback: str) -> str:
    """The file name of a ``Content-Disposition`` header, reduced to a safe base name."""
    message = Message()
    message["content-disposition"] = response.headers.get("Content-Disposition", "")
    name = (message.get_filename() or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return fallback if name in ("", ".", "..") or name.startswith(".") else name


def _fetch(url: str, part: Path, size: int, progress: Progress, fallback: str) -> str:
    """Bring ``part`` up to ``size`` bytes from ``url``; returns the file's name."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if 0 < have < size:
        headers["Range"] = f"bytes={have}-"
    elif have >= size > 0:
        headers["Range"] = "bytes=0-0"  # the part is complete; only the file's name is missing
    # The signed URL is the credential: the API token is never sent to it (it may be another host).
    with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT) as response:
        if response.status_code == 403:
            raise _LinkExpired
        if response.status_code == 416:
            part.unlink(missing_ok=True)
            raise _StartOver
        if response.status_code >= 400:
            raise api_error(response)
        name = file_name_from(response, fallback)
        if have >= size:
            return name
        mode = "wb"
        if response.status_code == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != have:
                part.unlink(missing_ok=True)
                raise _StartOver
            mode = "ab"
        else:
            progress.count = 0  # the server sent the whole file
        with part.open(mode) as handle:
            for chunk in response.iter_content(CHUNK):
                handle.write(chunk)
                progress.advance(len(chunk))
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run_download(args: Namespace) -> int:
    client = ApiClient(load_credentials())
    client.require_token()
    link = client.post(f"/dataset-files/{args.file_id}/download-url", retries=RETRIES)
    size, expected = int(link["size"]), str(link["sha256"])
    out = Path(args.out or ".")
    out.mkdir(parents=True, exist_ok=True)
    part = out / f"arena-{args.file_id}-{expected[:12]}.part"
    if part.exists() and part.stat().st_size > size:
        part.unlink()
    resumed_from = part.stat().st_size if part.exists() else 0
    progress = Progress(f"downloading file {args.file_id}", size, initial=resumed_from)
    failures = renewals = 0
    while True:
        try:
            name = _fetch(link["url"], part, size, progress, fallback=f"dataset-file-{args.file_id}")
            break
        except _StartOver:
            progress.count = 0
        except _LinkExpired:
            renewals += 1
            if renewals > LINK_RENEWALS:
                raise CliError("The download link keeps being refused; try again later.",
                               code="link_refused") from None
            link = client.post(f"/dataset-files/{args.file_id}/download-url", retries=RETRIES)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            failures += 1
            if failures > RETRIES:
                raise NetworkError(f"The download keeps failing ({first_line(str(exc))[:200]}); run the same "
                                   f"command again to resume from {human_size(part.stat().st_size)}.") from None
            time.sleep(min(2 ** failures, 10))
    progress.done()
    actual = _sha256(part)
    if actual != expected:
        part.unlink()
        raise CliError(f"sha256 mismatch for file {args.file_id}: expected {expected}, got {actual}; the download "
                       "was deleted. Run the command again to fetch it anew.", code="checksum_mismatch",
                       details={"expected": expected, "actual": actual})
    target = out / name
    os.replace(part, target)
    if args.json:
        emit_json({"file_id": args.file_id, "path": str(target), "name": name, "size": size, "sha256": actual,
                   "resumed_from": resumed_from})
    else:
        resumed = f", resumed from {human_size(resumed_from)}" if resumed_from else ""
        say(f"Saved {target} ({human_size(size)}, sha256 verified{resumed}).")
    return OK
