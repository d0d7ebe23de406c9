"""Transient failures, against a scripted stand-in server: retried uploads keep their Idempotency-Key,
broken downloads resume with a Range request, expired links are renewed."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from arena.cli.commands.download import CHUNK
from tests.cli.conftest import GOOD

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
SUBMISSION = {"id": 7, "public_id": "x", "phase": 1, "team": "Owls", "kind": "file", "status": "queued",
              "status_changed_at": None, "method_name": "m", "method_description": "", "paper_url": "",
              "code_url": "", "file_name": "p.csv", "file_size": len(GOOD), "file_sha256": "ab" * 32,
              "created_at": "2026-01-01T00:00:00Z", "queued_at": None, "started_at": None,
              "scoring_started_at": None, "finished_at": None, "error_message": "", "is_selected": False,
              "is_baseline": False, "disqualified_reason": "", "scores": {}, "logs": None}


class Stub:
    """A loopback HTTP server answering each request with the next scripted reply of its path."""

    def __init__(self, routes: dict[str, list[Callable]]) -> None:
        self.routes = routes
        self.seen: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                  "body": body})
                replies = stub.routes[self.path.split("?")[0]]
                replies.pop(0)(self) if len(replies) > 1 else replies[0](self)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_reply(status: int, body: dict, **headers: str) -> Callable:
    def reply(handler) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return reply


def file_reply(*, cut_after: int | None = None) -> Callable:
    """Serve PAYLOAD (honouring a single ``bytes=N-`` range); optionally drop the connection early."""
    def reply(handler) -> None:
        start = int(handler.headers["Range"][6:-1]) if handler.headers.get("Range") else 0
        body = PAYLOAD[start:]
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Content-Disposition", 'attachment; filename="../evil/../data.bin"')
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        handler.end_headers()
        handler.wfile.write(body[:cut_after] if cut_after is not None else body)
        if cut_after is not None:
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(2)
    return reply


@pytest.fixture
def stub_server():
    servers: list[Stub] = []

    def start(routes):
        servers.append(Stub(routes))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_an_upload_answered_503_is_retried_with_the_same_key_and_body(cli, stub_server):
    server = stub_server({"/api/v1/phases/1/submissions": [
        json_reply(503, {"code": "unavailable", "message": "Restarting.", "details": {}}),
        json_reply(201, SUBMISSION)]})
    (cli.home / "p.csv").write_bytes(GOOD)
    result = cli.run("submit", "--phase", "1", "p.csv", "--json",
                     env={"ARENA_SERVER": server.url, "ARENA_TOKEN": "arena_12345678_x", "ARENA_RETRIES": "2"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == 7
    assert result.stderr == "the server answered 503; retrying in 1 s\n"
    first, second = server.seen
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["headers"]["Idempotency-Key"].startswith("arena-cli-")
    assert first["headers"]["Authorization"] == "Token arena_12345678_x"
    assert first["body"] == second["body"] and GOOD in first["body"]
    assert b'name="method_name"\r\n\r\np\r\n' in first["body"]


def test_a_503_is_retried_after_the_wait_its_retry_after_asks_for(cli, stub_server):
    unavailable = json_reply(503, {"code": "service_unavailable", "message": "Briefly unavailable.",
                                   "details": {"retry_after_seconds": 2}}, Retry_After="2")
    server = stub_server({"/api/v1/phases/1/submissions": [unavailable, unavailable, json_reply(201, SUBMISSION)]})
    (cli.home / "p.csv").write_bytes(GOOD)
    # ARENA_RETRIES unset: the default number of retries.
    result = cli.run("submit", "--phase", "1", "p.csv", "--json",
                     env={"ARENA_SERVER": server.url, "ARENA_TOKEN": "t", "ARENA_RETRIES": ""})
    assert result.returncode == 0, result.stderr
    assert result.stderr == "the server answered 503; retrying in 2 s\n" * 2
    assert len({seen["headers"]["Idempotency-Key"] for seen in server.seen}) == 1 and len(server.seen) == 3


def test_retries_stop_after_arena_retries(cli, stub_server):
    server = stub_server({"/api/v1/phases/1/submissions": [
        json_reply(503, {"code": "service_unavailable", "message": "Briefly unavailable.", "details": {}},
                   Retry_After="1")]})
    (cli.home / "p.csv").write_bytes(GOOD)
    result = cli.run("submit", "--phase", "1", "p.csv",
                     env={"ARENA_SERVER": server.url, "ARENA_TOKEN": "t", "ARENA_RETRIES": "2"})
    assert result.returncode == 7, result.stderr
    assert result.stderr.endswith("arena: Briefly unavailable.\n")
    assert len(server.seen) == 3


def test_a_refusal_is_not_retried(cli, stub_server):
    server = stub_server({"/api/v1/phases/1/submissions": [
        json_reply(429, {"code": "quota_exceeded", "message": "Your team has used all 5 submissions.",
                         "details": {"limit": "total"}})]})
    (cli.home / "p.csv").write_bytes(GOOD)
    result = cli.run("submit", "--phase", "1", "p.csv",
                     env={"ARENA_SERVER": server.url, "ARENA_TOKEN": "t", "ARENA_RETRIES": "3"})
    assert (result.returncode, result.stderr) == (5, "arena: Your team has used all 5 submissions.\n")
    assert len(server.seen) == 1


def test_a_broken_download_resumes_from_where_it_stopped(cli, stub_server):
    link = {"size": len(PAYLOAD), "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
            "expires_at": "2030-01-01T00:00:00Z"}
    routes = {"/files/a": [file_reply(cut_after=200_000), file_reply()]}
    server = stub_server(routes)
    routes["/api/v1/dataset-files/5/download-url"] = [json_reply(200, {**link, "url": f"{server.url}/files/a"})]
    result = cli.run("download", "5", "--json",
                     env={"ARENA_SERVER": server.url, "ARENA_TOKEN": "t", "ARENA_RETRIES": "2"})
    assert result.returncode == 0, result.stderr
    file_requests = [seen for seen in server.seen if seen["path"] == "/files/a"]
    # Whole chunks received before the break are kept; the request that follows asks for the rest.
    kept = 200_000 // CHUNK * CHUNK
    assert [seen["headers"].get("Range") for seen in file_requests] == [None, f"bytes={kept}-"]
    assert not any("Authorization" in seen["headers"] for seen in file_requests)
    assert json.loads(result.stdout)["name"] == "data.bin"
    assert (cli.home / "data.bin").read_bytes() == PAYLOAD


def test_an_expired_link_is_renewed(cli, stub_server):
    link = {"size": len(PAYLOAD), "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
            "expires_at": "2030-01-01T00:00:00Z"}
    routes = {"/files/old": [json_reply(403, {"code": "expired", "message": "expired", "details": {}})],
              "/files/new": [file_reply()]}
    server = stub_server(routes)
    routes["/api/v1/dataset-files/5/download-url"] = [json_reply(200, {**link, "url": f"{server.url}/files/old"}),
                                                      json_reply(200, {**link, "url": f"{server.url}/files/new"})]
    result = cli.run("download", "5", env={"ARENA_SERVER": server.url, "ARENA_TOKEN": "t"})
    assert result.returncode == 0, (result.stderr, [(s["path"], s["method"]) for s in server.seen])
    assert [seen["path"] for seen in server.seen] == [
        "/api/v1/dataset-files/5/download-url", "/files/old", "/api/v1/dataset-files/5/download-url", "/files/new"]
    assert (cli.home / "data.bin").read_bytes() == PAYLOAD


def test_a_server_error_exits_7_with_one_line(cli, stub_server):
    server = stub_server({"/api/v1/challenges": [
        json_reply(500, {"code": "server_error", "message": "Something went wrong on our side.", "details": {}})]})
    result = cli.run("challenges", env={"ARENA_SERVER": server.url})
    assert (result.returncode, result.stderr) == (7, "arena: Something went wrong on our side.\n")


def test_https_to_a_plain_http_server_says_to_write_http_at_once(cli, stub_server):
    server = stub_server({"/api/v1/challenges": [json_reply(200, [])]})
    address = server.url.removeprefix("http://")  # as typed: `--server 127.0.0.1:8000`
    result = cli.run("challenges", env={"ARENA_SERVER": address})
    assert result.returncode == 7
    assert f"https://{address} did not complete a TLS (https) handshake" in result.stderr
    assert f"`arena login --server http://{address}`" in result.stderr
    assert "retrying" not in result.stderr and len(server.seen) == 0
