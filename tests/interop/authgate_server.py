"""Start and stop a real `authgate serve` process for black-box tests.

Shared by the interop tests (tests/interop) and the API fuzzing run
(tests/fuzz).  The server gets a fresh temporary data directory (SQLite,
generated keys), listens on an ephemeral port on 127.0.0.1, and uses a cheap
argon2 cost so that logins are fast.  On an empty database it prints the
bootstrap admin's password once on stdout; we parse it from there, together
with the port.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ADMIN_EMAIL = "interop.admin@example.com"

_LISTEN_RE = re.compile(r"authgate listening on (http://127\.0\.0\.1:(\d+))")
_PASSWORD_RE = re.compile(r"^\s+password: (\S+)\s*$", re.MULTILINE)
_CREATED_RE = re.compile(r'Created organization "[^"]*" with admin (\S+)')


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies, so
    that a killed or crashed test run never leaves a server behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def authgate_bin() -> Path:
    """The binary under test: $AUTHGATE_BIN, else target/release/authgate."""
    raw = os.environ.get("AUTHGATE_BIN")
    path = Path(raw) if raw else REPO_ROOT / "target" / "release" / "authgate"
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(
            f"authgate binary not found or not executable at {path}; build it with "
            "`cargo build --release --locked --bin authgate` or set AUTHGATE_BIN"
        )
    return path


@dataclass
class AuthgateServer:
    """A running `authgate serve`; use as a context manager."""

    admin_email: str = DEFAULT_ADMIN_EMAIL
    extra_env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 30.0

    # Filled in by start().
    base_url: str = ""
    port: int = 0
    admin_password: str = ""
    data_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    def start(self) -> "AuthgateServer":
        binary = authgate_bin()
        self.data_dir = Path(tempfile.mkdtemp(prefix="authgate-blackbox-"))
        # Nothing of the caller's AUTHGATE_* configuration leaks in (a
        # database URL from the environment would point us at a shared DB).
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        env.update(
            {
                "AUTHGATE_DATA_DIR": str(self.data_dir),
                "AUTHGATE_LISTEN": "127.0.0.1:0",
                "AUTHGATE_ARGON2_MEMORY_KIB": "64",
                "AUTHGATE_ARGON2_ITERATIONS": "1",
                "AUTHGATE_LOG": "warn",
                # The tests create users with known passwords (the
                # operator's escape hatch; invitations are the default).
                "AUTHGATE_ADMIN_SET_PASSWORDS": "true",
                "AUTHGATE_BOOTSTRAP_ADMIN_EMAIL": self.admin_email,
                "NO_COLOR": "1",
            }
        )
        env.update(self.extra_env)
        # Kept so a test can run `authgate support …` against this server's data.
        self.env = env
        self._stdout_path = self.data_dir / "stdout.log"
        self._stderr_path = self.data_dir / "stderr.log"
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(binary), "serve"],
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            text = self.stdout()
            listening = _LISTEN_RE.search(text)
            if listening:
                break
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"authgate exited with {self.proc.returncode} before listening\n"
                    f"stdout:\n{text}\nstderr:\n{self.stderr()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"authgate did not print its listening line within {self.startup_timeout}s\n"
                    f"stdout:\n{text}\nstderr:\n{self.stderr()}"
                )
            time.sleep(0.05)
        self.base_url = listening.group(1)
        self.port = int(listening.group(2))
        created = _CREATED_RE.search(text)
        password = _PASSWORD_RE.search(text)
        if not created or not password:
            raise RuntimeError(f"no bootstrap admin/password in authgate's stdout:\n{text}")
        if created.group(1) != self.admin_email:
            raise RuntimeError(
                f"bootstrap admin is {created.group(1)!r}, expected {self.admin_email!r}"
            )
        self.admin_password = password.group(1)
        # The listening line is printed once the socket is bound; make sure
        # it actually answers before handing it out.
        while True:
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("authgate /healthz did not answer 200 in time")
            time.sleep(0.05)

    def stdout(self) -> str:
        try:
            return self._stdout_path.read_text(errors="replace")
        except (AttributeError, FileNotFoundError):
            return ""

    def stderr(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")
        except (AttributeError, FileNotFoundError):
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self.data_dir is not None and os.environ.get("AUTHGATE_KEEP_DATA") != "1":
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "AuthgateServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- small HTTP helpers -------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def login(self, email: str, password: str, **extra: object) -> requests.Response:
        body = {"email": email, "password": password, **extra}
        return requests.post(self.url("/v1/auth/login"), json=body, timeout=10)

    def admin_token(self) -> str:
        """A fresh password-only access token of the bootstrap admin."""
        r = self.login(self.admin_email, self.admin_password)
        r.raise_for_status()
        body = r.json()
        if body.get("status") != "authenticated":
            raise RuntimeError(f"admin login did not authenticate: {body}")
        return body["access_token"]
