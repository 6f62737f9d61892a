"""Security events leave Authgate: email through a real SMTP server
(aiosmtpd) and Standard Webhooks verified by an independent library (the
`standardwebhooks` package), including retries while the receiver is down
or failing, a `kill -9` and restart in between, a burst, and (with
AUTHGATE_TEST_POSTGRES_URL) two instances on one PostgreSQL.

Each test runs the release binary (see authgate_server.py) with a fast
dispatcher: AUTHGATE_OUTBOX_POLL_MS / AUTHGATE_OUTBOX_BACKOFF_MS.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyotp
import pytest
import requests
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from authgate_server import AuthgateServer, authgate_bin

FAST = {
    "AUTHGATE_OUTBOX_POLL_MS": "50",
    "AUTHGATE_OUTBOX_BACKOFF_MS": "200",
    "AUTHGATE_OUTBOX_MAX_BACKOFF_SECS": "1",
    "AUTHGATE_OUTBOX_LEASE_SECS": "3",
    "AUTHGATE_WEBHOOK_ALLOW_PRIVATE": "true",
    "AUTHGATE_WEBHOOK_TIMEOUT_SECS": "2",
}
WAIT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, check, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def enable_two_factor(base: str, token: str, password: str) -> str:
    return enable_two_factor_with_codes(base, token, password)[0]


def enable_two_factor_with_codes(base: str, token: str, password: str) -> tuple[str, list[str]]:
    h = {"Authorization": f"Bearer {token}"}
    # Starting an enrollment asks for the password again (step-up).
    r = requests.post(f"{base}/v1/me/two-factor/enrollment", json={"password": password},
                      headers=h, timeout=10)
    r.raise_for_status()
    secret = r.json()["secret"]
    code = pyotp.TOTP(secret).now()
    r = requests.post(
        f"{base}/v1/me/two-factor/enrollment/confirm", json={"code": code}, headers=h, timeout=10
    )
    r.raise_for_status()
    return secret, r.json()["recovery_codes"]


def create_webhook(base: str, token: str, url: str, events: list[str]) -> dict:
    r = requests.post(
        f"{base}/v1/organization/webhooks",
        json={"url": url, "events": events},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


# --- a real SMTP server ----------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        msg = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.rcpt_tos, msg))
        return "250 OK"


def test_enabling_two_factor_mails_the_user_through_smtp():
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        env = {**FAST, "AUTHGATE_SMTP_URL": f"smtp://127.0.0.1:{port}",
               "AUTHGATE_MAIL_FROM": "Authgate <security@authgate.test>"}
        with AuthgateServer(extra_env=env) as server:
            secret = enable_two_factor(server.base_url, server.admin_token(), server.admin_password)
            rcpt, msg = wait_until(
                "the notification mail",
                lambda: next((m for m in inbox.messages
                              if "turned on" in str(m[1]["Subject"])), None),
            )
            assert rcpt == [server.admin_email]
            assert msg["From"] == "Authgate <security@authgate.test>"
            assert msg["Message-ID"]
            text = msg.get_content()
            assert "Two-factor authentication is now on" in text
            assert "When: " in text and "Address: 127.0.0.1" in text
            assert "If this was not you" in text
            assert secret not in text
            # No .eml files when SMTP is configured.
            assert not (server.data_dir / "mail").exists() or not list(
                (server.data_dir / "mail").glob("*.eml"))
    finally:
        smtp.stop()


def test_without_smtp_the_mail_is_an_eml_file():
    with AuthgateServer(extra_env=FAST) as server:
        enable_two_factor(server.base_url, server.admin_token(), server.admin_password)
        eml = wait_until(
            "an .eml file",
            lambda: next(iter((server.data_dir / "mail").glob("*.eml")), None)
            if (server.data_dir / "mail").exists() else None,
        )
        msg = message_from_bytes(eml.read_bytes(), policy=default_policy)
        assert "turned on" in str(msg["Subject"])
        assert msg["To"] == server.admin_email


# --- a real webhook receiver -----------------------------------------------


class Receiver:
    """Records verified deliveries; answers with `answers` first (e.g. 500),
    then 204. Can be started late (the receiver is "down" until then)."""

    def __init__(self, port: int, secret: str | None = None, answers=()) -> None:
        self.port = port
        self.secret = secret
        self.answers = list(answers)
        self.verified: list[dict] = []   # {id, type, payload}
        self.attempts = 0
        self.rejected: list[str] = []
        self._server = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "Receiver":
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer._lock:
                    outer.attempts += 1
                    status = outer.answers.pop(0) if outer.answers else 204
                if status < 300:
                    try:
                        payload = Webhook(outer.secret).verify(body, dict(self.headers))
                    except WebhookVerificationError as e:
                        outer.rejected.append(str(e))
                        status = 400
                    else:
                        with outer._lock:
                            outer.verified.append({
                                "id": self.headers["webhook-id"],
                                "type": payload["type"],
                                "payload": payload,
                            })
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def of_type(self, t: str) -> list[dict]:
        with self._lock:
            return [v for v in self.verified if v["type"] == t]


# --- an authgate process we can kill -9 and restart on the same data ------


class Process:
    _LISTEN = re.compile(r"authgate listening on (http://127\.0\.0\.1:\d+)")

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.env = env
        self.proc = None
        self.base_url = ""

    def start(self) -> "Process":
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        env.update({
            "AUTHGATE_DATA_DIR": str(self.data_dir),
            "AUTHGATE_LISTEN": "127.0.0.1:0",
            "AUTHGATE_ARGON2_MEMORY_KIB": "64",
            "AUTHGATE_ARGON2_ITERATIONS": "1",
            "AUTHGATE_LOG": "warn",
        })
        env.update(self.env)
        self.out = self.data_dir / f"stdout-{uuid.uuid4().hex[:6]}.log"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen([str(authgate_bin()), "serve"], env=env,
                                         stdout=out, stderr=subprocess.DEVNULL)
        m = wait_until("listening", lambda: self._LISTEN.search(self.out.read_text()), 30)
        self.base_url = m.group(1)
        return self

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)


def admin_login(base: str, email: str, password: str, recovery_code: str | None = None) -> str:
    r = requests.post(f"{base}/v1/auth/login",
                      json={"email": email, "password": password}, timeout=10)
    r.raise_for_status()
    body = r.json()
    if body.get("status") == "otp_required":
        r = requests.post(f"{base}/v1/auth/otp", json={
            "challenge_token": body["challenge_token"], "recovery_code": recovery_code}, timeout=10)
        r.raise_for_status()
        body = r.json()
    return body["access_token"]


def test_a_signed_event_survives_a_down_receiver_a_500_and_a_kill_9():
    port = free_port()
    with AuthgateServer(extra_env=FAST) as first:
        email, password = first.admin_email, first.admin_password
        token = first.admin_token()
        hook = create_webhook(first.base_url, token, f"http://127.0.0.1:{port}/hooks",
                              ["two_factor.enabled"])
        _, recovery = enable_two_factor_with_codes(first.base_url, token, password)
        # The receiver is down: attempts fail and are recorded.
        path = f"/v1/organization/webhooks/{hook['id']}/deliveries"
        wait_until("a failed attempt", lambda: any(
            d["attempts"] >= 1 and d["state"] == "pending"
            for d in requests.get(first.url(path), headers={"Authorization": f"Bearer {token}"},
                                  timeout=10).json()["items"]))
        # Keep the data: kill -9 and restart on it.
        data = Path(tempfile.mkdtemp(prefix="authgate-events-"))
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        shutil.copytree(first.data_dir, data, dirs_exist_ok=True)
    rx = Receiver(port, hook["secret"], answers=[500]).start()
    again = Process(data, FAST).start()
    try:
        got = wait_until("the verified two_factor.enabled", lambda: rx.of_type("two_factor.enabled"))
        assert rx.attempts >= 2, "the 500 was retried"
        assert not rx.rejected
        event = got[0]["payload"]
        assert event["data"]["actor"]["type"] == "user"
        assert event["data"]["ip"] == "127.0.0.1"
        ids = {v["id"] for v in rx.of_type("two_factor.enabled")}
        assert len(ids) == 1, "a redelivery carries the same webhook-id"
        token = admin_login(again.base_url, email, password, recovery[0])
        done = wait_until("delivered state", lambda: [
            d for d in requests.get(again.base_url + path,
                                    headers={"Authorization": f"Bearer {token}"},
                                    timeout=10).json()["items"] if d["state"] == "delivered"])
        assert done[0]["event_id"] in ids
    finally:
        again.stop()
        rx.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_a_burst_is_delivered_completely_in_any_order():
    port = free_port()
    with AuthgateServer(extra_env=FAST) as server:
        token = server.admin_token()
        hook = create_webhook(server.base_url, token, f"http://127.0.0.1:{port}/hooks",
                              ["user.created"])
        rx = Receiver(port, hook["secret"]).start()
        try:
            n = 25
            for i in range(n):
                r = requests.post(server.url("/v1/users"), headers={"Authorization": f"Bearer {token}"},
                                  json={"email": f"burst{i}@example.com", "name": f"Burst {i}",
                                        "role": "agent"}, timeout=10)
                assert r.status_code == 201, r.text
            got = wait_until("every event", lambda: len({v["id"] for v in rx.of_type("user.created")}) >= n
                             and rx.of_type("user.created"))
            assert len({v["id"] for v in got}) == n
            assert not rx.rejected
        finally:
            rx.stop()


def test_payloads_carry_webhook_types_and_old_subscription_names_still_work():
    port = free_port()
    with AuthgateServer(extra_env=FAST) as server:
        token = server.admin_token()
        # `user.password_changed` is the audit name: an alias of `password.changed`.
        hook = create_webhook(server.base_url, token, f"http://127.0.0.1:{port}/hooks",
                              ["user.password_changed", "two_factor.locked"])
        assert hook["events"] == ["password.changed", "account.locked"]
        rx = Receiver(port, hook["secret"]).start()
        try:
            r = requests.post(server.url("/v1/me/password"), headers={"Authorization": f"Bearer {token}"},
                              json={"current_password": server.admin_password,
                                    "new_password": "a brand new passphrase"}, timeout=10)
            assert r.status_code < 300, r.text
            got = wait_until("the verified password.changed", lambda: rx.of_type("password.changed"))
            assert got[0]["payload"]["data"]["actor"]["type"] == "user"
            assert not rx.of_type("user.password_changed"), "the audit name is not a webhook type"
            assert not rx.rejected
        finally:
            rx.stop()


def _pg_schema_url(admin_url: str) -> tuple[str, str]:
    schema = f"ev_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", admin_url, "-qc", f"CREATE SCHEMA {schema}"], check=True)
    sep = "&" if "?" in admin_url else "?"
    return schema, f"{admin_url}{sep}options=-csearch_path%3D{schema}"


@pytest.mark.skipif(not os.environ.get("AUTHGATE_TEST_POSTGRES_URL") or not shutil.which("psql"),
                    reason="needs AUTHGATE_TEST_POSTGRES_URL and psql")
def test_two_instances_on_one_postgresql_deliver_every_event():
    admin_url = os.environ["AUTHGATE_TEST_POSTGRES_URL"]
    schema, url = _pg_schema_url(admin_url)
    port = free_port()
    second_dir = Path(tempfile.mkdtemp(prefix="authgate-events-b-"))
    env = {**FAST, "AUTHGATE_DATABASE_URL": url}
    try:
        with AuthgateServer(extra_env=env) as a:
            # One set of keys for both: the webhook secret is sealed with it.
            keys = {
                "AUTHGATE_SIGNING_KEY_FILE": str(a.data_dir / "keys" / "signing.pem"),
                "AUTHGATE_ENCRYPTION_KEY_FILE": str(a.data_dir / "keys" / "encryption.key"),
            }
            b = Process(second_dir, {**env, **keys}).start()
            rx = None
            try:
                token_a = a.admin_token()
                token_b = admin_login(b.base_url, a.admin_email, a.admin_password)
                hook = create_webhook(a.base_url, token_a, f"http://127.0.0.1:{port}/hooks",
                                      ["user.created"])
                rx = Receiver(port, hook["secret"], answers=[500, 500]).start()
                n = 30
                for i in range(n):
                    base, token = (a.base_url, token_a) if i % 2 else (b.base_url, token_b)
                    r = requests.post(f"{base}/v1/users", headers={"Authorization": f"Bearer {token}"},
                                      json={"email": f"pg{i}@example.com", "name": f"PG {i}",
                                            "role": "agent"}, timeout=10)
                    assert r.status_code == 201, r.text
                wait_until("every event from both instances",
                           lambda: len({v["id"] for v in rx.of_type("user.created")}) >= n)
                time.sleep(1)  # let any duplicate arrive before judging them
                by_id: dict[str, list[dict]] = {}
                for v in rx.of_type("user.created"):
                    by_id.setdefault(v["id"], []).append(v["payload"])
                assert len(by_id) == n, "none lost"
                for same in by_id.values():
                    assert all(p == same[0] for p in same), "a duplicate is the same event"
                assert not rx.rejected
            finally:
                b.stop()
                if rx:
                    rx.stop()
    finally:
        shutil.rmtree(second_dir, ignore_errors=True)
        subprocess.run(["psql", admin_url, "-qc", f"DROP SCHEMA {schema} CASCADE"], check=False)
