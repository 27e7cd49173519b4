"""Delivery targets cannot be turned against the host: webhook URLs are checked when a
subscription is created or altered; a webhook follows no redirect and reaches no loopback,
private or link-local address (after DNS resolution) unless the subscription says
`allow_private_network = TRUE`; `log:FILE` writes only a plain file inside the log directory
and never through a symlink. Servers listen on 127.0.0.1, on free ports, in daemon threads."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from queryleaf.errors import QueryLeafError
from queryleaf.runtime.webhook_guard import is_private
from tests.test_runtime import subscribe, subscription, wait_for

RETRY = "max_retry_attempts = 1, retry_delay_ms = 10, exponential_backoff = FALSE"


class Recorder(BaseHTTPRequestHandler):
    bodies: list[Any] = []
    redirect_to: str | None = None

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        if type(self).redirect_to:
            self.send_response(302)
            self.send_header("Location", type(self).redirect_to)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def servers():
    started = []

    def start(redirect_to: str | None = None) -> tuple[type, str]:
        handler = type("R", (Recorder,), {"bodies": [], "redirect_to": redirect_to})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return handler, f"http://127.0.0.1:{server.server_port}/hook"

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("deliver_to", "fragment"),
    [
        ("logfile.ndjson", "must be 'log'"),
        ("log:../escape.ndjson", "plain file name"),
        ("log:/etc/cron.d/x", "plain file name"),
        ("log:sub/dir.ndjson", "plain file name"),
        ("log:..", "plain file name"),
        ("http://", "with a host"),
        ("http://exa mple.com/", "without spaces"),
        ("https://example.com:99999/", "valid http(s) URL"),
        ("ftp://example.com/", "must be 'log'"),
        ("httpx://example.com/", "must be 'log'"),
    ],
)
def test_bad_targets_are_refused_at_create_and_alter(conn, deliver_to: str, fragment: str) -> None:
    with pytest.raises(QueryLeafError) as caught:
        subscribe(conn, "bad", f"watch_collections = JSON_ARRAY('t'), deliver_to = '{deliver_to}'")
    assert caught.value.code == "QL311" and fragment in caught.value.message
    assert conn.db.event_subscriptions.count_documents({}) == 0
    subscribe(conn, "good", "watch_collections = JSON_ARRAY('t'), deliver_to = 'log'")
    with pytest.raises(QueryLeafError) as caught:
        conn.run_sql(f"ALTER EVENT_SUBSCRIPTION good SET (deliver_to = '{deliver_to}')")
    assert caught.value.code == "QL311"
    assert subscription(conn, "good")["deliver_to"] == "log"


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("0.0.0.0", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("224.0.0.1", True),
        ("100.100.100.200", True),  # shared address space: a cloud's metadata service
        ("100.64.0.1", True),
        ("2002:7f00:1::", True),  # 6to4 for 127.0.0.1
        ("2002:a9fe:a9fe::1", True),  # 6to4 for 169.254.169.254
        ("2002:808:808::1", False),  # 6to4 for 8.8.8.8
        ("::ffff:8.8.8.8", False),
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_private_addresses(address: str, private: bool) -> None:
    assert is_private(address) is private


def test_a_loopback_webhook_is_refused_without_the_opt_in(conn, servers) -> None:
    hook, url = servers()
    for name, host_url in (("by_ip", url), ("by_name", url.replace("127.0.0.1", "localhost"))):
        subscribe(
            conn, name, f"watch_collections = JSON_ARRAY('w'), deliver_to = '{host_url}', {RETRY}"
        )
        conn.start_subscription(name)
    conn.db.w.insert_one({"_id": 1})
    wait_for(lambda: subscription(conn, "by_ip")["events_dead_lettered"] == 1)
    wait_for(lambda: subscription(conn, "by_name")["events_dead_lettered"] == 1)
    conn.runtime.stop_all()
    assert hook.bodies == []
    errors = [r["error"] for r in conn.run_sql("SELECT error FROM DEAD_LETTER_EVENTS()").rows]
    assert len(errors) == 2 and all("allow_private_network" in e for e in errors), errors


def test_the_opt_in_allows_loopback(conn, servers, monkeypatch) -> None:
    # An environment proxy is not used (the address reached through it could not be checked).
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    monkeypatch.setenv("http_proxy", "http://10.255.255.1:3128")
    hook, url = servers()
    subscribe(
        conn,
        "local",
        f"watch_collections = JSON_ARRAY('w'), deliver_to = '{url}', allow_private_network = TRUE",
    )
    conn.start_subscription("local")
    conn.db.w.insert_one({"_id": 1})
    wait_for(lambda: subscription(conn, "local")["events_delivered"] == 1)
    conn.runtime.stop_all()
    assert [body["documentKey"] for body in hook.bodies] == [{"_id": 1}]


def test_redirects_are_not_followed(conn, servers) -> None:
    elsewhere, other_url = servers()
    redirecting, url = servers(redirect_to=other_url)
    subscribe(
        conn,
        "moved",
        f"watch_collections = JSON_ARRAY('w'), deliver_to = '{url}', "
        f"allow_private_network = TRUE, {RETRY}",
    )
    conn.start_subscription("moved")
    conn.db.w.insert_one({"_id": 1})
    wait_for(lambda: subscription(conn, "moved")["events_dead_lettered"] == 1)
    conn.runtime.stop_all()
    assert len(redirecting.bodies) == 2  # the first attempt and one retry
    assert elsewhere.bodies == []
    (letter,) = conn.run_sql("SELECT error FROM DEAD_LETTER_EVENTS()").rows
    assert "HTTP 302" in letter["error"] and "not followed" in letter["error"]


def test_log_files_stay_in_the_log_directory_and_follow_no_symlink(conn, tmp_path) -> None:
    logs = tmp_path / "logs"
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched\n")
    logs.mkdir()
    os.symlink(outside, logs / "trap.ndjson")
    conn.log_dir = str(logs)
    subscribe(conn, "plain", "watch_collections = JSON_ARRAY('t'), deliver_to = 'log:ok.ndjson'")
    subscribe(
        conn,
        "trapped",
        f"watch_collections = JSON_ARRAY('t'), deliver_to = 'log:trap.ndjson', {RETRY}",
    )
    conn.start_subscription("plain")
    conn.start_subscription("trapped")
    conn.db.t.insert_one({"_id": 1})
    wait_for(lambda: subscription(conn, "plain")["events_delivered"] == 1)
    wait_for(lambda: subscription(conn, "trapped")["events_dead_lettered"] == 1)
    conn.runtime.stop_all()
    (line,) = (logs / "ok.ndjson").read_text().splitlines()
    assert json.loads(line)["documentKey"] == {"_id": 1}
    assert outside.read_text() == "untouched\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "outside.txt"]


def test_the_default_log_directory_is_queryleaf_logs(conn, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUERYLEAF_LOG_DIR", raising=False)
    subscribe(conn, "here", "watch_collections = JSON_ARRAY('t'), deliver_to = 'log:e.ndjson'")
    conn.start_subscription("here")
    conn.db.t.insert_one({"_id": 1})
    wait_for(lambda: subscription(conn, "here")["events_delivered"] == 1)
    conn.runtime.stop_all()
    assert (tmp_path / "queryleaf-logs" / "e.ndjson").read_text().count("\n") == 1
