"""`carecal feed serve` as deployed: granian worker processes on a free loopback port."""

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from carecal import db
from carecal.feeds import tokens
from tests import factories as f

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(sqlite_url, tmp_path):
    """The real server (2 workers, 1 s to send a request head) on a database with one feed."""
    with db.session_scope(sqlite_url) as s:
        f.organisation(s)
        anna = f.volunteer(s, first_name="Anna")
        f.published_visit(s, "2026-W48", f.care_request(s, f.client(s, first_name="Raissa")), anna)
        token = tokens.issue(s, anna, "coordinator")
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "carecal", "--db", sqlite_url, "feed", "serve", "--port", str(port)]
        + ["--workers", "2", "--header-timeout", "1", "--token-rate", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a busy machine starts slowly
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the feed server did not start within 120 s")
    yield base, token, log
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_the_server_answers_from_worker_processes_and_logs_no_token(server):
    base, token, log = server
    with httpx.Client(base_url=base, timeout=10) as client:
        first = client.get(f"/feeds/{token}.ics")
        assert first.status_code == 200 and b"BEGIN:VCALENDAR" in first.content
        # whichever worker answers, the ETag is the same: the body's hash
        for _ in range(6):
            assert (
                client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
            )
        assert client.get(f"/feeds/{token}x.ics").status_code == 404
        assert client.get(f"/Feeds/{token}.ics").headers["content-security-policy"] == "default-src 'none'"
    log.flush()
    log.seek(0)
    text = log.read()
    assert "GET /feeds/{token}.ics 200" in text and "GET - 404" in text
    assert token not in text and "Traceback" not in text


def test_a_half_sent_request_is_cut_off_after_the_header_timeout(server):
    base, *_ = server
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /feeds/x.ics HTTP/1.1\r\nHost: a\r\n")  # never finished
        sock.settimeout(10)
        started = time.monotonic()
        assert sock.recv(1000) == b""  # the server closed the connection
        assert time.monotonic() - started < 5
