"""Bounded inputs: who may submit is known before the body is read, a body stops being read at its limit,
uploads never sit in the web process's memory, and a refused upload changes nothing.

Bodies are generated as the server reads them and count what it read, so "read none of it" and "read
at most the limit and a margin" are measured, not assumed. The memory test streams a 500 MB model
archive through a real WSGI server (gunicorn) in a child process and reads that process's peak RSS.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from arena.audit.models import AuditEntry
from arena.core.uploads import UPLOAD_MARGIN
from arena.participation.models import ParticipationStatus
from arena.submissions.models import Submission
from arena.tokens.services import api_token_create
from tests.platform.factories import ChallengeFactory, PhaseFactory, UserFactory, ready_team
from tests.platform.worker import REPO, database_url
from tests.processes import stop_process_group
from tests.sandboxes.archive_factory import member, write_archive

MB = 1024 * 1024
GOOD = b"name,discrete\ns1,happy\ns2,sad\ns3,angry\ns4,neutral\ns5,worried\n"
SAVE_HOW_TO = "Create the archive with: docker save my-model:latest | gzip > model.tar.gz"
BOUNDARY = "bounded-inputs-boundary"


# --- bodies that count what the server read -------------------------------------------------------

class Body(io.RawIOBase):
    """A request body produced as it is read; ``read_bytes`` says how much the server read."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        size = len(self._pending) if size < 0 else size
        data, self._pending = self._pending[:size], self._pending[size:]
        self.read_bytes += len(data)
        return data


@dataclass
class Multipart:
    """A multipart/form-data body with one file, generated chunk by chunk."""

    fields: dict[str, str]
    file_field: str
    file_name: str
    file_chunks: Iterable[bytes]
    file_size: int

    def _head(self) -> bytes:
        parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 for k, v in self.fields.items()]
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{self.file_field}"; '
                     f'filename="{self.file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n')
        return "".join(parts).encode()

    _tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def __len__(self) -> int:
        return len(self._head()) + self.file_size + len(self._tail)

    def chunks(self) -> Iterator[bytes]:
        yield self._head()
        yield from self.file_chunks
        yield self._tail


def _zeros(size: int) -> Iterator[bytes]:
    block = b"\0" * MB
    while size > 0:
        yield block[:min(size, MB)]
        size -= MB


def post_streamed(client: Client, path: str, body: Multipart, **headers: str) -> tuple[object, Body]:
    """POST ``body`` through Django's request handling with a body that counts what was read."""
    stream = Body(body.chunks())
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    response = client.request(**{
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "wsgi.input": stream,
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}", "CONTENT_LENGTH": str(len(body)), **meta,
    })
    return response, stream


# --- the world ------------------------------------------------------------------------------------

@dataclass
class World:
    phase: object
    member: object
    outsider: object
    pending: object
    tokens: dict[str, str]

    @property
    def page(self) -> str:
        track = self.phase.track
        return f"/c/{track.challenge.slug}/t/{track.slug}/p/{self.phase.slug}/"

    def files_api(self, phase=None) -> str:
        return f"/api/v1/phases/{(phase or self.phase).pk}/submissions"

    def models_api(self, phase=None) -> str:
        return f"/api/v1/phases/{(phase or self.phase).pk}/container-submissions"

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[who]}"}


@pytest.fixture
def world(db, settings, tmp_path) -> World:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    phase = PhaseFactory(track__max_upload_mb=1, track__accepts_containers=True, track__max_image_mb=2,
                         track__max_in_flight=10)
    member, outsider, pending = UserFactory(), UserFactory(), UserFactory()
    challenge = phase.track.challenge
    ready_team(challenge=challenge, members=[member], name="Members")
    waiting = ready_team(challenge=challenge, members=[pending], name="Waiting")
    waiting.participation.status = ParticipationStatus.PENDING
    waiting.participation.save()
    tokens = {who: api_token_create(user=user, name="t").raw
              for who, user in (("member", member), ("outsider", outsider), ("pending", pending))}
    return World(phase=phase, member=member, outsider=outsider, pending=pending, tokens=tokens)


def _stored_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT) / "submissions"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def unchanged(world, tmp_path):
    """Afterwards: no submission, no audit row, no stored file, no temporary file left behind."""
    files_before = set(_stored_files())
    yield
    assert not Submission.objects.exists()
    assert not AuditEntry.objects.filter(action="submission.create").exists()
    assert set(_stored_files()) == files_before
    assert list((tmp_path / "uploads").iterdir()) == []


def _prediction(size: int, **fields: str) -> Multipart:
    return Multipart({"method_name": "M", **fields}, "file", "p.csv", _zeros(size), size)


def _archive(size: int, field: str = "image_archive", **fields: str) -> Multipart:
    return Multipart({"method_name": "M", **fields}, field, "model.tar", _zeros(size), size)


# --- who may submit is known before the body is read ---------------------------------------------

@pytest.mark.parametrize("who,phase,status,code", [
    ("anonymous", "open", 401, "not_authenticated"),
    ("outsider", "open", 403, "not_in_team"),
    ("pending", "open", 403, "approval_pending"),
    ("member", "closed", 403, "phase_closed"),
    ("member", "hidden", 404, "not_found"),
])
@pytest.mark.parametrize("endpoint", ["files", "models"])
def test_api_refusals_read_none_of_the_body(client, world, unchanged, who, phase, status, code, endpoint):
    target = world.phase
    if phase == "closed":
        target.closes_at = timezone.now() - timedelta(minutes=1)
        target.save()
    elif phase == "hidden":
        target = PhaseFactory(track__challenge=ChallengeFactory(is_published=False))
    path = world.files_api(target) if endpoint == "files" else world.models_api(target)
    body = _prediction(MB // 2) if endpoint == "files" else _archive(MB)
    headers = world.auth(who) if who != "anonymous" else {}
    response, stream = post_streamed(client, path, body, **headers)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert stream.read_bytes == 0


def test_a_signed_in_browser_is_refused_before_its_body_is_read_too(world, unchanged):
    # Session authentication reads the CSRF token from the body: the checks run before that.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.outsider)
    browser.get(world.page)  # a CSRF cookie: the check goes on to look for the token in the body
    response, stream = post_streamed(browser, world.files_api(), _prediction(MB // 2))
    assert (response.status_code, response.json()["code"]) == (403, "not_in_team")
    assert stream.read_bytes == 0


@pytest.mark.parametrize("accept,status", [("text/html", 302), ("application/json", 401)])
def test_an_anonymous_post_to_the_phase_page_reads_none_of_the_body(client, world, unchanged, accept, status):
    response, stream = post_streamed(client, world.page, _prediction(MB // 2, kind="file"), Accept=accept)
    assert response.status_code == status and stream.read_bytes == 0
    if status == 302:
        assert response.url == f"/accounts/login/?next={world.page}"
    else:
        assert response.json()["message"] == "Sign in to submit."


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_team_that_may_not_submit_gets_its_answer_without_its_body_being_read(client, world, unchanged, accept):
    client.force_login(world.pending)
    response, stream = post_streamed(client, world.page, _prediction(MB // 2, kind="file"), Accept=accept)
    assert response.status_code == 403 and stream.read_bytes == 0
    message = "Your team is waiting for the organisers' approval; you will get an e-mail."
    if accept == "application/json":
        assert response.json()["message"] == message
    else:
        assert message.replace("'", "&#x27;") in response.text


# --- a body stops being read at its limit --------------------------------------------------------

@pytest.mark.parametrize("target,body,limit,message", [
    ("files", lambda: _prediction(20 * MB), MB,
     "The file is larger than this track's limit of 1 MB. Remove extra columns or candidates, or compress it "
     "(.gz or .zip) if the track accepts that."),
    ("models", lambda: _archive(20 * MB), 2 * MB,
     "The model archive is larger than this track's limit of 2 MB. Use a slimmer base image, or leave out "
     "training data and caches."),
])
def test_a_body_announced_over_the_limit_is_refused_unread(client, world, unchanged, target, body, limit, message):
    path = world.files_api() if target == "files" else world.models_api()
    response, stream = post_streamed(client, path, body(), **world.auth("member"))
    assert response.status_code == 413 and stream.read_bytes == 0
    assert response.json() == {"code": "file_too_large", "message": message,
                               "details": {"field": "file" if target == "files" else "image_archive",
                                           "limit_bytes": limit}}


@pytest.mark.parametrize("target,size,limit", [("files", MB + 600 * 1024, MB), ("models", 2 * MB + 600 * 1024, 2 * MB)])
def test_a_file_over_the_limit_stops_being_read_at_the_limit(client, world, unchanged, target, size, limit):
    # Announced within the limit and the margin: the body is read until the file passes its limit.
    path = world.files_api() if target == "files" else world.models_api()
    body = _prediction(size) if target == "files" else _archive(size)
    response, stream = post_streamed(client, path, body, **world.auth("member"))
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert limit < stream.read_bytes <= limit + UPLOAD_MARGIN
    assert stream.read_bytes < len(body)


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_the_phase_page_answers_413_with_the_limit(client, world, unchanged, accept):
    client.force_login(world.member)
    response, stream = post_streamed(client, world.page, _archive(20 * MB, field="model-image_archive",
                                                                  kind="container"), Accept=accept)
    assert response.status_code == 413 and stream.read_bytes == 0
    # The body is refused before it is read, so before knowing which of the two forms sent it.
    message = ("The upload is 20 MB; this track takes prediction files of at most 1 MB and model archives of at "
               "most 2 MB. Send a smaller file.")
    if accept == "application/json":
        assert response.json() == {"message": message, "errors": {"__all__": [message]}}
    else:
        assert message.replace("'", "&#x27;") in response.text
    response, stream = post_streamed(client, world.page, _prediction(MB + 600 * 1024, kind="file"), Accept=accept)
    assert response.status_code == 413 and MB < stream.read_bytes <= MB + UPLOAD_MARGIN
    message = ("The file is larger than this track's limit of 1 MB. Remove extra columns or candidates, or "
               "compress it (.gz or .zip) if the track accepts that.")
    if accept == "application/json":
        assert response.json() == {"message": message, "errors": {"__all__": [message]}}
    else:
        assert message.replace("'", "&#x27;") in response.text


def test_other_pages_have_the_site_limit(client, world, settings):
    settings.ARENA_MAX_REQUEST_MB = 1
    licence = f"/api/v1/challenges/{world.phase.track.challenge.slug}/licence/agreement"
    big = Multipart({}, "file", "agreement.pdf", _zeros(3 * MB), 3 * MB)
    response, stream = post_streamed(client, licence, big, **world.auth("member"))
    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")
    assert response.json()["message"] == "The upload is larger than the 1 MB this page accepts; send a smaller file."
    assert stream.read_bytes == 0
    # A Django page (here the licence page's form) answers it as a request it could not read.
    client.force_login(world.member)
    page = f"/c/{world.phase.track.challenge.slug}/licence/agreement/"
    response, stream = post_streamed(client, page, Multipart({}, "file", "a.pdf", _zeros(3 * MB), 3 * MB))
    assert response.status_code == 400 and stream.read_bytes == 0


def test_staff_in_the_admin_have_the_admin_limit(client, world, settings):
    settings.ARENA_MAX_REQUEST_MB, settings.ARENA_MAX_ADMIN_UPLOAD_MB = 1, 8
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    body = Multipart({}, "reference_public", "public.csv", _zeros(3 * MB), 3 * MB)
    response, stream = post_streamed(client, "/admin/challenges/phase/add/", body)
    assert response.status_code == 200 and stream.read_bytes == len(body)  # read whole; the form says what is missing
    response, stream = post_streamed(client, "/admin/challenges/phase/add/",
                                     Multipart({}, "reference_public", "p.csv", _zeros(9 * MB), 9 * MB))
    assert response.status_code == 400 and stream.read_bytes == 0


# --- CSRF stays for browsers ---------------------------------------------------------------------

def test_the_phase_page_still_needs_a_csrf_token(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.member)
    browser.get(world.page)
    token = browser.cookies[django_settings.CSRF_COOKIE_NAME].value
    form = {"kind": "file", "method_name": "M"}
    refused = browser.post(world.page, {**form, "file": SimpleUploadedFile("p.csv", GOOD)})
    assert refused.status_code == 403 and not Submission.objects.exists()
    accepted = browser.post(world.page, {**form, "file": SimpleUploadedFile("p.csv", GOOD),
                                         "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302 and Submission.objects.count() == 1


def test_api_uploads_from_a_browser_session_still_need_a_csrf_token(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.member)
    browser.get(world.page)
    token = browser.cookies[django_settings.CSRF_COOKIE_NAME].value
    data = {"method_name": "M", "file": SimpleUploadedFile("p.csv", GOOD)}
    refused = browser.post(world.files_api(), data)
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    assert not Submission.objects.exists()
    data["file"] = SimpleUploadedFile("p.csv", GOOD)
    accepted = browser.post(world.files_api(), data, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.content
    data["file"] = SimpleUploadedFile("p.csv", GOOD)
    by_token = Client(enforce_csrf_checks=True).post(world.files_api(), data, headers=world.auth("member"))
    assert by_token.status_code == 201 and Submission.objects.count() == 2


# --- what is refused, and that nothing changed ---------------------------------------------------

def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("content,status,code,message", [
    (gzip.compress(GOOD[:30]) + gzip.compress(GOOD[30:]), 400, "invalid_archive",
     "The .gz file holds several gzip streams joined together (as `cat a.gz b.gz` makes); compress the one "
     "prediction file on its own: gzip -c predictions.csv > predictions.csv.gz"),
    (_zip({"..\\..\\evil.csv": GOOD}), 400, "invalid_archive",
     "The .zip file names its member '..\\..\\evil.csv' with a path that climbs out of the archive with '..'; "
     "zip the prediction file on its own, without folders: zip -j predictions.zip predictions.csv"),
    (gzip.compress(b"\0" * (8 * MB)), 413, "file_too_large",
     "The decompressed file is larger than this track's limit of 1 MB. Remove extra columns or candidates, or "
     "compress it (.gz or .zip) if the track accepts that."),
])
def test_refused_prediction_files_change_nothing(client, world, unchanged, content, status, code, message):
    response = client.post(world.files_api(), {"method_name": "M", "file": SimpleUploadedFile("p.csv.gz", content)},
                           headers=world.auth("member"))
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (status, code, message)


def _refusal(tmp_path: Path, **kwargs) -> bytes:
    return write_archive(tmp_path / "model.tar", **kwargs).read_bytes()


@pytest.mark.parametrize("make,message", [
    (lambda tmp: b"this is not a tar archive" * 40,
     "The file is not an image archive (a tar or tar.gz made by `docker save`): "),
    (lambda tmp: _refusal(tmp, with_layer=False), "The archive's layer '0123abcd/layer.tar' is missing. "),
    (lambda tmp: _refusal(tmp, manifest=b"[]"), "The archive holds 0 images; save exactly one (`docker save IMAGE`). "),
    (lambda tmp: _refusal(tmp, extra=(member("../../etc/cron.d/x"),)),
     "The image archive holds an entry outside it ('../../etc/cron.d/x'); upload an archive made by `docker save`. "),
    (lambda tmp: _refusal(tmp, extra=(member("abc/layer.tar", tarfile.SYMTYPE, "/etc/shadow"),)),
     "The image archive holds a link that points outside it ('abc/layer.tar' -> '/etc/shadow'); upload an archive "
     "made by `docker save`. "),
    (lambda tmp: _refusal(tmp, extra=(member("dev/sda", tarfile.BLKTYPE),)),
     "The image archive holds a device or special file ('dev/sda'); upload an archive made by `docker save`. "),
])
def test_model_archives_not_laid_out_by_docker_save_are_refused_at_upload(client, world, unchanged, tmp_path, make,
                                                                         message):
    response = client.post(world.models_api(), {"method_name": "M", "image_archive": SimpleUploadedFile(
        "model.tar", make(tmp_path))}, headers=world.auth("member"))
    body = response.json()
    assert (response.status_code, body["code"], body["details"]) == (400, "invalid_image_archive",
                                                                    {"field": "image_archive"})
    assert body["message"].startswith(message) and body["message"].endswith(SAVE_HOW_TO)
    assert "\n" not in body["message"]


@pytest.mark.parametrize("gz", [False, True])
def test_a_docker_save_archive_is_accepted_and_stored_as_uploaded(client, world, tmp_path, gz):
    data = write_archive(tmp_path / "model.tar", gz=gz).read_bytes()
    response = client.post(world.models_api(), {"method_name": "M", "image_archive": SimpleUploadedFile(
        "model.tar.gz" if gz else "model.tar", data)}, headers=world.auth("member"))
    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert (submission.file_size, submission.file_sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert submission.image_archive.read() == data


# --- the web process holds no upload in memory ---------------------------------------------------

def _tar_member(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 0, 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _padding(size: int) -> bytes:
    return b"\0" * (-size % tarfile.BLOCKSIZE)


@dataclass
class GeneratedArchive:
    """A `docker save`-shaped archive with one large layer, generated as it is sent, hashed on the way."""

    layer_bytes: int

    def __post_init__(self) -> None:
        self.config = json.dumps({"architecture": "amd64", "os": "linux",
                                  "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        self.config_name = hashlib.sha256(self.config).hexdigest() + ".json"
        self.manifest = json.dumps([{"Config": self.config_name, "RepoTags": ["team/big:1"],
                                     "Layers": ["layer0/layer.tar"]}]).encode()
        self.sha256 = hashlib.sha256()

    def parts(self) -> Iterator[bytes]:
        yield _tar_member("layer0/layer.tar", self.layer_bytes)
        block = bytes(range(256)) * 4096  # 1 MB that is not all zeros
        left = self.layer_bytes
        while left:
            yield block[:min(left, MB)]
            left -= min(left, MB)
        yield _padding(self.layer_bytes)
        for name, data in ((self.config_name, self.config), ("manifest.json", self.manifest)):
            yield _tar_member(name, len(data)) + data + _padding(len(data))
        yield b"\0" * (2 * tarfile.BLOCKSIZE)

    def __len__(self) -> int:
        small = sum(tarfile.BLOCKSIZE + len(d) + len(_padding(len(d))) for d in (self.config, self.manifest))
        return tarfile.BLOCKSIZE + self.layer_bytes + len(_padding(self.layer_bytes)) + small + 2 * tarfile.BLOCKSIZE

    def hashed(self) -> Iterator[bytes]:
        for chunk in self.parts():
            self.sha256.update(chunk)
            yield chunk


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


@contextmanager
def wsgi_server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """gunicorn (one sync worker, as in production) on the test database: (port, worker pid)."""
    port = _free_port()
    temp = tmp_path / "server-tmp"
    temp.mkdir()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "arena.config.settings.test", "DATABASE_URL": database_url(),
        "ARENA_TEST_MEDIA_ROOT": str(django_settings.MEDIA_ROOT), "ARENA_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "memory://", "TMPDIR": str(temp), "PYTHONPATH": f"{REPO}:{REPO / 'platform'}",
    }
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--timeout", "600", "--bind", f"127.0.0.1:{port}",
         "arena.config.wsgi:application"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                if children:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield port, int(children[0])
    finally:
        stop_process_group(server, timeout=30)
        log.close()


def _upload(port: int, path: str, token: str, body: Multipart) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest("POST", path)
    for name, value in (("Authorization", f"Token {token}"), ("Content-Length", str(len(body))),
                        ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")):
        connection.putheader(name, value)
    connection.endheaders()
    for chunk in body.chunks():
        connection.send(chunk)
    response = connection.getresponse()
    answer = (response.status, json.loads(response.read()))
    connection.close()
    return answer


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_500_mb_model_archive_streams_through_the_server_in_bounded_memory(tmp_path):
    user = UserFactory()
    phase = PhaseFactory(track__accepts_files=False, track__accepts_containers=True, track__max_image_mb=600,
                         track__max_in_flight=5)
    ready_team(challenge=phase.track.challenge, members=[user])
    token = api_token_create(user=user, name="t").raw
    path = f"/api/v1/phases/{phase.pk}/container-submissions"
    archive = GeneratedArchive(layer_bytes=500 * MB)
    with wsgi_server(tmp_path) as (port, worker):
        small = GeneratedArchive(layer_bytes=MB)  # loads every module the upload path uses
        assert _upload(port, path, token, Multipart({"method_name": "warm"}, "image_archive", "m.tar",
                                                    small.parts(), len(small)))[0] == 201
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # the peak RSS starts again from here
        before = _status(worker)["VmRSS"]
        started = time.monotonic()
        status, body = _upload(port, path, token, Multipart({"method_name": "big"}, "image_archive", "model.tar",
                                                             archive.hashed(), len(archive)))
        seconds = time.monotonic() - started
        peak = _status(worker)["VmHWM"]
    assert status == 201, body
    print(f"500 MB archive: {seconds:.1f} s; worker RSS {before / MB:.0f} MB, "
          f"peak growth {(peak - before) / MB:.1f} MB")
    assert peak - before < 50 * MB
    submission = Submission.objects.get(pk=body["id"])
    assert (submission.file_size, submission.file_sha256) == (len(archive), archive.sha256.hexdigest())
    assert list((tmp_path / "server-tmp").iterdir()) == []  # the upload's temporary file is gone
    submission.image_archive.delete(save=False)
