"""Property-based API fuzzing of a real Authgate server with Schemathesis.

Starts `authgate serve` on a fresh database (tests/interop/authgate_server.py),
logs in as the bootstrap admin, creates the helper users the hooks need
(fuzz_hooks.py), then runs the Schemathesis CLI against the server's own
/openapi.json (OpenAPI 3.1) with every operation included, authenticated
ones too, and these checks:

  not_a_server_error            no 5xx
  status_code_conformance       no undocumented status code
  content_type_conformance      documented media type (JSON / problem+json)
  response_schema_conformance   body matches the documented schema
  response_headers_conformance  documented response headers present and valid

The run is bounded (a fixed number of examples per operation, one worker,
a fixed seed, no example database, a hard timeout) and fails when
Schemathesis reports any failure or error, when the admin token stopped
working during the run (coverage would be void), or when the server
panicked or died.

Environment knobs (all optional):
  AUTHGATE_BIN                  binary under test (default target/release/authgate)
  AUTHGATE_FUZZ_CHECKS          comma-separated Schemathesis checks (default: the five above)
  AUTHGATE_FUZZ_MAX_EXAMPLES    examples per operation and phase (default 150)
  AUTHGATE_FUZZ_SEED            seed (default 20261129)
  AUTHGATE_FUZZ_TIMEOUT         hard limit for the Schemathesis run, seconds (default 360; 35 operations since the partner endpoints)
  AUTHGATE_FUZZ_REPORT_DIR      JUnit report etc. (default target/fuzz-report)
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
from authgate_server import REPO_ROOT, AuthgateServer  # noqa: E402

DEFAULT_CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)

CHECKS = os.environ.get("AUTHGATE_FUZZ_CHECKS", DEFAULT_CHECKS)
MAX_EXAMPLES = int(os.environ.get("AUTHGATE_FUZZ_MAX_EXAMPLES", "150"))
SEED = int(os.environ.get("AUTHGATE_FUZZ_SEED", "20261129"))
TIMEOUT = int(os.environ.get("AUTHGATE_FUZZ_TIMEOUT", "360"))
SPARE_SESSIONS = 20
LOGOUT_SESSIONS = 40
REPORT_DIR = Path(os.environ.get("AUTHGATE_FUZZ_REPORT_DIR", REPO_ROOT / "target" / "fuzz-report"))


def log(msg: str) -> None:
    print(f"[fuzz] {msg}", flush=True)


def create_user(server: AuthgateServer, token: str, email: str, password: str) -> dict:
    r = requests.post(
        server.url("/v1/users"),
        json={"email": email, "name": email.split("@")[0], "role": "agent", "password": password},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    if r.status_code != 201:
        raise RuntimeError(f"could not create {email}: {r.status_code} {r.text}")
    return r.json()["user"]


def jwt_claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def schemathesis_exe() -> str:
    exe = Path(sys.executable).parent / "schemathesis"
    return str(exe) if exe.exists() else "schemathesis"


def _terminate(signum, frame):  # noqa: ARG001
    # Unwind normally so that the server and Schemathesis are stopped.
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    for old in REPORT_DIR.glob("junit-*.xml"):
        old.unlink()
    stats_file = REPORT_DIR / "hook-stats.txt"
    stats_file.unlink(missing_ok=True)

    with AuthgateServer(admin_email="fuzz.admin@example.com") as server:
        log(f"authgate listening on {server.base_url} (data in {server.data_dir})")
        token = server.admin_token()
        me = requests.get(server.url("/v1/me"), headers={"authorization": f"Bearer {token}"}, timeout=10)
        me.raise_for_status()
        admin_id = me.json()["id"]
        admin_sid = jwt_claims(token)["sid"]
        # Spare sessions of the admin for DELETE /v1/me/sessions/{id} to end
        # instead of the one the run uses (see fuzz_hooks.py).
        spare_sids = [jwt_claims(server.admin_token())["sid"] for _ in range(SPARE_SESSIONS)]
        decoy = create_user(server, token, "fuzz.decoy@example.com", "decoy-password-1")
        logout_password = "logout-password-1"
        create_user(server, token, "fuzz.logout@example.com", logout_password)
        logout_tokens = []
        for _ in range(LOGOUT_SESSIONS):
            r = server.login("fuzz.logout@example.com", logout_password)
            r.raise_for_status()
            logout_tokens.append(r.json()["access_token"])

        env = dict(os.environ)
        env.update(
            {
                "SCHEMATHESIS_HOOKS": "fuzz_hooks",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")])),
                "PYTHONDONTWRITEBYTECODE": "1",
                "AUTHGATE_FUZZ_BASE_URL": server.base_url,
                "AUTHGATE_FUZZ_ADMIN_TOKEN": token,
                "AUTHGATE_FUZZ_ADMIN_ID": admin_id,
                "AUTHGATE_FUZZ_DECOY_ID": decoy["id"],
                "AUTHGATE_FUZZ_ADMIN_SID": admin_sid,
                "AUTHGATE_FUZZ_SPARE_SIDS": ",".join(spare_sids),
                "AUTHGATE_FUZZ_LOGOUT_EMAIL": "fuzz.logout@example.com",
                "AUTHGATE_FUZZ_LOGOUT_PASSWORD": logout_password,
                "AUTHGATE_FUZZ_LOGOUT_TOKENS": ",".join(logout_tokens),
                "AUTHGATE_FUZZ_STATS_FILE": str(stats_file),
                # Only ever talk to the local server.
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        cmd = [
            schemathesis_exe(),
            "--no-color",
            "run",
            f"{server.base_url}/openapi.json",
            "--url", server.base_url,
            "--checks", CHECKS,
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", str(SEED),
            "--workers", "1",
            "--generation-database", "none",
            "--request-timeout", "10",
            "--report", "junit",
            "--report-dir", str(REPORT_DIR),
        ]
        log("running: " + " ".join(cmd))
        # Own working directory: Hypothesis and Schemathesis write nothing
        # into the repository.
        with tempfile.TemporaryDirectory(prefix="authgate-fuzz-") as workdir:
            proc = subprocess.Popen(cmd, cwd=workdir, env=env, start_new_session=True)
            try:
                rc = proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                log(f"FAIL: schemathesis did not finish within {TIMEOUT}s")
                return 1
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()

        problems: list[str] = []
        if rc != 0:
            problems.append(f"schemathesis exited with {rc} (failures above)")
        alive = server.proc is not None and server.proc.poll() is None
        if not alive:
            problems.append("the server process died during the run")
        else:
            still = requests.get(server.url("/v1/me"), headers={"authorization": f"Bearer {token}"}, timeout=10)
            if still.status_code != 200:
                problems.append(
                    f"the admin token stopped working during the run (GET /v1/me -> {still.status_code}): "
                    "later authenticated operations saw only 401, so the run is incomplete"
                )
        stderr = server.stderr()
        if "panicked" in stderr:
            problems.append("the server panicked (see its stderr below)")
        if stats_file.exists():
            stats = stats_file.read_text().splitlines()
            log("hook interventions: " + ", ".join(x for x in stats if not x.startswith("token_death")))
            death = [x.removeprefix("token_death: ") for x in stats if x.startswith("token_death")]
            if death:
                log("\n    ".join(death))
        if stderr.strip():
            log("server stderr (last 40 lines):\n" + "\n".join(stderr.splitlines()[-40:]))

    elapsed = time.monotonic() - started
    if problems:
        for p in problems:
            log(f"FAIL: {p}")
        log(f"fuzzing FAILED in {elapsed:.0f}s; JUnit report in {REPORT_DIR}")
        return 1
    log(f"fuzzing passed in {elapsed:.0f}s (max {MAX_EXAMPLES} examples per operation, seed {SEED})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
