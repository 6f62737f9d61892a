"""Schemathesis hooks for fuzzing Authgate (loaded via SCHEMATHESIS_HOOKS).

The whole run authenticates as the bootstrap admin with one access token,
put on every generated request by the auth provider below (not with the
CLI's `-H`, whose headers would override any per-request change).  A few
operations would end that token's session when aimed at the admin itself,
after which every later request would only see 401 and the run would
silently test nothing.  The stateful phase makes that likely: it learns the
admin's id from `GET /v1/users` (and session ids from `GET /v1/me/sessions`)
and feeds them into the operations below.  So, just before each request is
sent:

* `PATCH /v1/users/{admin}` with `require_two_factor: true` (forcing 2FA
  ends the user's sessions) and `POST /v1/users/{admin}/two-factor/reset`
  are redirected to a decoy user created for that purpose.  Other
  self-PATCHes (rename, the refused self-demotion/self-disable) go through
  unchanged, so those code paths are still fuzzed against the admin.
* `DELETE /v1/me/sessions/{admin's own session}` (the stateful phase reads
  the id from `GET /v1/me/sessions`) is redirected to one of a pool of
  spare admin sessions opened before the run (to a random id, i.e. 404,
  once the pool is used up).
* `POST /v1/auth/logout` and the step-up operations (starting an
  enrollment, disabling 2FA, new recovery codes, a password change, adding
  or removing an authenticator, ending another session: a few wrong
  passwords there end the session that sent
  them) carrying the admin token get the token of a
  throw-away session of a separate user instead: one of a pool opened
  before the run, else a fresh login, else (that user may have been
  locked, disabled or put under a 2FA policy by the fuzzer by then) a
  well-formed but unknown token, which exercises the 401 path.

One generation aid: the spec types `CreateUserRequest.email` as a plain
string, and random strings are (rightly) refused as emails, so without help
`POST /v1/users` would never reach its 201 path.  For half of the generated
bodies (chosen by a hash of the generated value, so runs stay reproducible)
a string email without "@" becomes a unique address at example.com; the
other half keeps the raw fuzzed value.

Nothing about the generated requests is changed otherwise, and no check is
relaxed: every response still goes through the selected checks.  The runner
(run_fuzz.py) verifies after the run that the admin token is still valid;
should some new operation end it anyway, the first 401 after which
`GET /v1/me` fails too is written to the stats file together with the
admin-token requests just before it, to show which one did it.

Configuration comes from the environment, set by run_fuzz.py.
"""

from __future__ import annotations

import collections
import os
import threading
import uuid
import zlib

import requests
import schemathesis

BASE_URL = os.environ["AUTHGATE_FUZZ_BASE_URL"]
ADMIN_TOKEN = os.environ["AUTHGATE_FUZZ_ADMIN_TOKEN"]
ADMIN_ID = os.environ["AUTHGATE_FUZZ_ADMIN_ID"]
DECOY_ID = os.environ["AUTHGATE_FUZZ_DECOY_ID"]
ADMIN_SID = os.environ["AUTHGATE_FUZZ_ADMIN_SID"]
SPARE_SIDS = [sid for sid in os.environ.get("AUTHGATE_FUZZ_SPARE_SIDS", "").split(",") if sid]
LOGOUT_EMAIL = os.environ["AUTHGATE_FUZZ_LOGOUT_EMAIL"]
LOGOUT_PASSWORD = os.environ["AUTHGATE_FUZZ_LOGOUT_PASSWORD"]
LOGOUT_TOKENS = [t for t in os.environ.get("AUTHGATE_FUZZ_LOGOUT_TOKENS", "").split(",") if t]
STATS_FILE = os.environ.get("AUTHGATE_FUZZ_STATS_FILE")

# A syntactically valid JWT signed by nobody the server knows.
UNKNOWN_TOKEN = (
    "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFZERTQSIsImtpZCI6InVua25vd24ifQ."
    "eyJzdWIiOiJub2JvZHkifQ."
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

_lock = threading.Lock()
_stats = {
    "redirected_user_ops": 0,
    "redirected_session_deletes": 0,
    "logout_pooled_session": 0,
    "logout_fresh_session": 0,
    "logout_unknown_token": 0,
}
_recent_admin_requests: collections.deque = collections.deque(maxlen=8)
_token_death: list[str] = []

_SESSION_ENDING_PATCH = ("PATCH", "/v1/users/{id}")
_RESET = ("POST", "/v1/users/{id}/two-factor/reset")
_END_SESSION = ("DELETE", "/v1/me/sessions/{id}")
_LOGOUT = ("POST", "/v1/auth/logout")
# Step-up operations: a few wrong passwords or codes there end the session
# that sent them, so they run as the throw-away user, never the admin.
_STEP_UP = {
    ("POST", "/v1/me/two-factor/enrollment"),
    ("POST", "/v1/me/two-factor/disable"),
    ("POST", "/v1/me/two-factor/recovery-codes"),
    ("POST", "/v1/me/password"),
    ("POST", "/v1/me/two-factor/authenticators"),
    ("DELETE", "/v1/me/two-factor/authenticators/{id}"),
}


def _write_stats() -> None:
    if STATS_FILE:
        with open(STATS_FILE, "w") as fh:
            for name, value in sorted(_stats.items()):
                fh.write(f"{name}={value}\n")
            for line in _token_death:
                fh.write(f"token_death: {line}\n")


def _bump(key: str) -> None:
    with _lock:
        _stats[key] += 1
        _write_stats()


def _uses_admin_token(case) -> bool:
    value = case.headers.get("Authorization") if case.headers else None
    return value == f"Bearer {ADMIN_TOKEN}"


def _throwaway_token() -> str | None:
    try:
        r = requests.post(
            f"{BASE_URL}/v1/auth/login",
            json={"email": LOGOUT_EMAIL, "password": LOGOUT_PASSWORD, "client": "api"},
            timeout=10,
        )
        body = r.json()
    except (requests.RequestException, ValueError):
        return None
    if r.status_code == 200 and body.get("status") == "authenticated":
        return body["access_token"]
    return None


@schemathesis.auth(refresh_interval=None)
class AdminBearer:
    """The admin's access token on every request (all operations, public
    ones included, as a logged-in client would send it).  Schemathesis
    leaves it off the cases that deliberately test a missing/invalid token."""

    def get(self, case, context):
        return ADMIN_TOKEN

    def set(self, case, data, context):
        if case.headers is None:
            case.headers = {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def map_body(context, body):
    op = context.operation
    if op is None or (op.method.upper(), op.path) != ("POST", "/v1/users"):
        return body
    if isinstance(body, dict) and isinstance(body.get("email"), str) and "@" not in body["email"]:
        digest = zlib.crc32(body["email"].encode("utf-8", "surrogatepass"))
        if digest % 2 == 0:
            return {**body, "email": f"fuzz-{digest:08x}@example.com"}
    return body


@schemathesis.hook
def before_call(context, case, kwargs):
    key = (case.method.upper(), case.path)
    if key in (_SESSION_ENDING_PATCH, _RESET) and case.path_parameters.get("id") == ADMIN_ID:
        forces_2fa = isinstance(case.body, dict) and case.body.get("require_two_factor") is True
        if key == _RESET or forces_2fa:
            case.path_parameters = {**case.path_parameters, "id": DECOY_ID}
            _bump("redirected_user_ops")
    elif (key == _LOGOUT or key in _STEP_UP or key == _END_SESSION) and _uses_admin_token(case):
        with _lock:
            token = LOGOUT_TOKENS.pop() if LOGOUT_TOKENS else None
        if token is not None:
            _bump("logout_pooled_session")
        elif (token := _throwaway_token()) is None:
            token = UNKNOWN_TOKEN
            _bump("logout_unknown_token")
        else:
            _bump("logout_fresh_session")
        if case.headers is None:
            case.headers = {}
        case.headers["Authorization"] = f"Bearer {token}"
    elif key == _END_SESSION and case.path_parameters.get("id") == ADMIN_SID:
        with _lock:
            spare = SPARE_SIDS.pop() if SPARE_SIDS else str(uuid.uuid4())
        case.path_parameters = {**case.path_parameters, "id": spare}
        _bump("redirected_session_deletes")


_DEBUG_LOG = os.environ.get("AUTHGATE_FUZZ_DEBUG_LOG")


@schemathesis.hook
def after_call(context, case, response):
    auth = response.request.headers.get("Authorization", "")
    is_admin = auth == f"Bearer {ADMIN_TOKEN}"
    line = f"{response.request.method} {response.request.url} -> {response.status_code}"
    if _DEBUG_LOG:
        who = "admin" if is_admin else (auth[:20] or "-")
        with open(_DEBUG_LOG, "a") as fh:
            fh.write(f"{line} [{who}]\n")
    if not is_admin or _token_death:
        return
    with _lock:
        _recent_admin_requests.append(line)
    if response.status_code == 401:
        try:
            alive = requests.get(
                f"{BASE_URL}/v1/me", headers={"Authorization": auth}, timeout=10
            ).status_code != 401
        except requests.RequestException:
            alive = True
        if not alive:
            with _lock:
                _token_death.append("the admin token stopped working; its last requests were:")
                _token_death.extend(_recent_admin_requests)
                _write_stats()
