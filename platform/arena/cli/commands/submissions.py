"""``arena submit`` (upload with progress, optional live status until a final state) and ``arena status``."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from argparse import Namespace
from pathlib import Path

import requests

from arena.cli.client import RETRIES, ApiClient, reason
from arena.cli.config import load_credentials
from arena.cli.errors import OK, ApiError, CliError, NetworkError, SubmissionFailed, UsageError
from arena.cli.multipart import MultipartFile
from arena.cli.output import emit_json, note, number, say, short_time
from arena.cli.progress import Progress

FINAL = ("scored", "failed", "cancelled")
#: Read timeout of the upload request: the server checks the whole file before it answers.
UPLOAD_TIMEOUT = (10, 600)
#: Model archives from this size on go straight to the site's storage with an upload ticket (when the site
#: offers them); ARENA_DIRECT_UPLOAD_MB changes it (0: always).
DIRECT_UPLOAD_BYTES = (int(os.environ["ARENA_DIRECT_UPLOAD_MB"]) if os.environ.get("ARENA_DIRECT_UPLOAD_MB", "")
                       .isdigit() else 64) * 1024 * 1024
#: Read timeout of a direct upload: the storage answers once it has the whole file.
DIRECT_UPLOAD_TIMEOUT = (10, 3600)


def _fields(args: Namespace, path: Path) -> dict[str, str]:
    default = path.name.split(".")[0] if args.image_archive else path.stem  # model.tar.gz: "model"
    fields = {"method_name": args.method or default, "method_description": args.description or "",
              "paper_url": args.paper_url or "", "code_url": args.code_url or ""}
    if args.answer:
        fields["answers"] = json.dumps(dict(args.answer))
    return fields


def _direct_upload(client: ApiClient, args: Namespace, path: Path) -> str | None:
    """Upload a model archive straight to the site's storage with a ticket and return its key; None when
    the site takes uploads only in the submission request."""
    try:
        ticket = client.post(f"/phases/{args.phase}/uploads", json={"filename": path.name, "kind": "image_archive"},
                             retries=RETRIES)
    except ApiError as exc:
        if exc.code == "direct_upload_unavailable":
            return None
        raise
    if path.stat().st_size > ticket["max_bytes"]:
        raise UsageError(f"{path.name} is larger than this track's limit for model archives "
                         f"({ticket['max_bytes'] // (1024 * 1024)} MB).")
    progress = Progress(f"uploading {path.name}", path.stat().st_size)
    body = MultipartFile(ticket["fields"], file_field="file", path=path, on_file_bytes=progress.advance)
    try:
        # The storage's own address: the API token is never sent there.
        response = requests.post(ticket["url"], data=body, headers={"Content-Type": body.content_type},
                                 timeout=DIRECT_UPLOAD_TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise NetworkError(f"The upload to the site's storage failed ({reason(exc)}); run the command again.") \
            from None
    finally:
        body.close()
    progress.done()
    if response.status_code >= 300:
        found = re.search(r"<Message>(.*?)</Message>", response.text, re.S)
        raise CliError(f"The site's storage refused the upload ({response.status_code}: "
                       f"{found.group(1).strip() if found else response.reason}); run the command again.",
                       code="direct_upload_refused")
    return ticket["key"]


def _upload(client: ApiClient, args: Namespace, path: Path, key: str) -> dict:
    fields = _fields(args, path)
    if args.image_archive and path.stat().st_size >= DIRECT_UPLOAD_BYTES:
        upload_key = _direct_upload(client, args, path)
        if upload_key is not None:
            response = client.request("POST", f"/phases/{args.phase}/container-submissions",
                                      json={**fields, "upload_key": upload_key}, headers={"Idempotency-Key": key})
            return _answered(response, key)
    progress = Progress(f"uploading {path.name}", path.stat().st_size)
    body = MultipartFile(fields, file_field="image_archive" if args.image_archive else "file", path=path,
                         on_file_bytes=progress.advance)
    endpoint = "container-submissions" if args.image_archive else "submissions"
    try:
        response = client.request(
            "POST", f"/phases/{args.phase}/{endpoint}", data=body, timeout=UPLOAD_TIMEOUT,
            headers={"Content-Type": body.content_type, "Idempotency-Key": key},
        )
    finally:
        body.close()
    progress.done()
    return _answered(response, key)


def _answered(response, key: str) -> dict:
    submission = response.json()
    if response.status_code == 200:
        note(f"the server already had this upload (Idempotency-Key {key}): submission {submission['id']}")
    return submission


def _wait(client: ApiClient, submission: dict, timeout: float) -> dict:
    """Poll the submission until it is scored, failed or cancelled; report each change on stderr."""
    started = time.monotonic()
    delay = 1.0
    status = submission["status"]
    note(f"status: {status}")
    while status not in FINAL:
        if time.monotonic() - started > timeout:
            raise CliError(f"Submission {submission['id']} is still {status} after {timeout:.0f} s; "
                           f"check it later with `arena status {submission['id']}`.", code="wait_timeout")
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)
        try:
            submission = client.get(f"/submissions/{submission['id']}")
        except NetworkError as exc:
            note(f"{exc.message}; still waiting")
            continue
        if submission["status"] != status:
            status = submission["status"]
            note(f"status: {status} ({time.monotonic() - started:.0f} s)")
    return submission


def _print_submission(submission: dict) -> None:
    say(f"Submission {submission['id']}  phase {submission['phase']}  team {submission['team'] or '-'}")
    say(f"  method:    {submission['method_name']}")
    if submission["file_sha256"]:
        say(f"  file:      {submission['file_name']} ({submission['file_size']} bytes, "
            f"sha256 {submission['file_sha256'][:12]}…)")
    say(f"  submitted: {short_time(submission['created_at'])}")
    say(f"  status:    {submission['status']}"
        + (f" (finished {short_time(submission['finished_at'])})" if submission["finished_at"] else ""))
    for split, score in sorted(submission["scores"].items()):
        metrics = ", ".join(f"{name}={number(value)}" for name, value in score["metrics"].items())
        say(f"  {split + ':':<10} {number(score['score'])}" + (f"  ({metrics})" if metrics else ""))
    if submission["error_message"]:
        say(f"  error:     {submission['error_message']}")
    if submission["is_selected"]:
        say("  selected as a final entry")


def _finish(args: Namespace, submission: dict) -> int:
    if args.json:
        emit_json(submission)
    else:
        _print_submission(submission)
    if submission["status"] in ("failed", "cancelled"):
        reason = " ".join((submission["error_message"] or "no reason given").split())
        raise SubmissionFailed(f"Submission {submission['id']} {submission['status']}: {reason}",
                               code=f"submission_{submission['status']}", details={"id": submission["id"]})
    return OK


def run_submit(args: Namespace) -> int:
    if bool(args.file) == bool(args.image_archive):
        raise UsageError("Give either a prediction file or --image-archive PATH.")
    path = Path(args.file or args.image_archive)
    if not path.is_file():
        raise UsageError(f"No such file: {path}")
    client = ApiClient(load_credentials())
    client.require_token()
    # The same key on every retry: the server then answers with the first submission, never a second one.
    key = args.idempotency_key or f"arena-cli-{uuid.uuid4().hex}"
    submission = _upload(client, args, path, key)
    if not args.json:
        note(f"submitted: submission {submission['id']} to phase {submission['phase']} ({submission['status']})")
    if args.wait:
        try:
            submission = _wait(client, submission, args.timeout)
        except KeyboardInterrupt:
            raise CliError(f"Stopped waiting; submission {submission['id']} goes on: "
                           f"`arena status {submission['id']}`.", code="interrupted", exit_code=130) from None
    return _finish(args, submission)


def run_status(args: Namespace) -> int:
    client = ApiClient(load_credentials())
    client.require_token()
    submission = client.get(f"/submissions/{args.id}")
    if args.json:
        emit_json(submission)
    else:
        _print_submission(submission)
    return OK
