"""Fixtures for the console's browser tests: a real `authgate serve`
(started as in tests/interop), Debian's Chromium driven by Playwright, and
an authenticator app (pyotp) that never reuses a time step."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from authgate_server import AuthgateServer, _die_with_parent  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "target" / "console-screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PERIOD = 30


class RestartableServer(AuthgateServer):
    """An AuthgateServer that can be stopped and started again on the same
    port and data directory, as an operator's restart would."""

    def restart(self, pause: float = 0.0) -> None:
        self.kill_only()
        time.sleep(pause)
        self.start_again()

    def kill_only(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)

    def start_again(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        env.update({
            "AUTHGATE_DATA_DIR": str(self.data_dir),
            "AUTHGATE_LISTEN": f"127.0.0.1:{self.port}",
            "AUTHGATE_ARGON2_MEMORY_KIB": "64",
            "AUTHGATE_ARGON2_ITERATIONS": "1",
            "AUTHGATE_LOG": "warn",
            # The browser tests read the one-time password the console shows
            # (the operator's escape hatch; invitations are the default).
            "AUTHGATE_ADMIN_SET_PASSWORDS": "true",
            "AUTHGATE_BOOTSTRAP_ADMIN_EMAIL": self.admin_email,
            "NO_COLOR": "1",
            **self.extra_env,
        })
        with open(self.data_dir / "stdout2.log", "ab") as out, open(self.data_dir / "stderr2.log", "ab") as err:
            self.proc = subprocess.Popen(
                [str(self._binary), "serve"], cwd=self.data_dir, env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("authgate did not come back after a restart")


@pytest.fixture(scope="session")
def server():
    from authgate_server import authgate_bin

    s = RestartableServer(admin_email="admin@console.test")
    s._binary = authgate_bin()
    s.start()
    yield s
    s.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def mail_server():
    """A server as shipped: admins invite (no passwords of theirs), and the
    mails link to the console at this server's own address, so its port is
    chosen before it starts. Webhooks may reach a receiver on loopback and
    the dispatcher looks for work often, for the webhook screen's test."""
    from authgate_server import authgate_bin

    port = free_port()
    s = RestartableServer(admin_email="owner@console.test", extra_env={
        "AUTHGATE_LISTEN": f"127.0.0.1:{port}",
        "AUTHGATE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "AUTHGATE_ADMIN_SET_PASSWORDS": "false",
        "AUTHGATE_WEBHOOK_ALLOW_PRIVATE": "true",
        "AUTHGATE_OUTBOX_POLL_MS": "100",
    })
    s._binary = authgate_bin()
    s.start()
    yield s
    s.stop()


def mails_to(server, address: str) -> list:
    """The mails written to the server's data dir for `address`, oldest first."""
    from email import message_from_bytes
    from email.policy import default as default_policy

    found = []
    for eml in sorted((server.data_dir / "mail").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        msg = message_from_bytes(eml.read_bytes(), policy=default_policy)
        if address in str(msg["to"]):
            found.append(msg)
    return found


def wait_for_mail(server, address: str, subject: str, after: int = 0, timeout: float = 15):
    """The first mail to `address` whose subject has `subject`, beyond the first `after` such mails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [m for m in mails_to(server, address) if subject in str(m["subject"])]
        if len(mails) > after:
            return mails[after]
        time.sleep(0.1)
    raise AssertionError(f"no mail {subject!r} to {address} within {timeout}s")


def link_in(mail) -> str:
    """The set-password link a mail carries."""
    text = mail.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://\S+/console/#/reset-password\?token=pr_[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server) -> Page:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=server.base_url)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


@pytest.fixture
def mail_page(browser, mail_server) -> Page:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=mail_server.base_url)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    """Saves a screenshot under target/console-screenshots (CI artifacts)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def decode_qr(png: bytes) -> str:
    """Reads the QR code in a screenshot with zxing-cpp, a real decoder."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return found[0].text


class Authenticator:
    """An authenticator app: codes from the decoded otpauth:// URI, each
    30-second step used at most once, never too close to a boundary."""

    def __init__(self, uri: str):
        self.totp = pyotp.parse_uri(uri)
        assert isinstance(self.totp, pyotp.TOTP)
        self.last_step = -1

    def code(self) -> str:
        while True:
            now = time.time()
            into = now % PERIOD
            cur = int(now // PERIOD)
            if into > PERIOD - 3:
                time.sleep(PERIOD - into + 0.2)
                continue
            step = max(cur, self.last_step + 1)
            if step > cur + 1:  # outside the server's ±1 window: wait
                time.sleep(PERIOD - into + 0.2)
                continue
            self.last_step = step
            return self.totp.at(step * PERIOD)
