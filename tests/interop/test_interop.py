"""Black-box interoperability test of Authgate's TOTP two-factor login.

Everything goes through HTTP against the real release binary, and the
authenticator side is played by independent implementations, exactly as a
phone would: the QR PNG is decoded by zxing-cpp (a real QR decoder) and the
decoded otpauth:// URI is turned into codes by pyotp.parse_uri().

Time handling: every code is computed for an explicit 30-second step chosen
by `fresh_code`, which never starts within a safety margin of a step
boundary and never reuses a step the server has already seen, so the tests
pass whatever the wall-clock second they start at (at most ~32 s of waiting
in the worst case, usually none).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import urllib.parse

import pyotp
import pytest
import requests
import zxingcpp
from PIL import Image

from authgate_server import AuthgateServer

PERIOD = 30
# Never send a code computed less than this many seconds before a step
# boundary: the request could then arrive in the next step.  (The server's
# ±1-step window would still accept it, but the tests want to know exactly
# which step each code belongs to.)
BOUNDARY_MARGIN = 3.0
ISSUER = "Authgate"  # AUTHGATE_TOTP_ISSUER's default
TIMEOUT = 10


# --------------------------------------------------------------------------
# helpers


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // PERIOD)


def fresh_code(totp: pyotp.TOTP, after_step: int | None = None) -> tuple[str, int]:
    """A code for a step later than `after_step` that the server's ±1 window
    accepts when sent right away, chosen away from step boundaries.

    Returns (code, step).
    """
    while True:
        now = time.time()
        into_step = now % PERIOD
        if into_step > PERIOD - BOUNDARY_MARGIN:
            # Too close to the next boundary: wait until just past it.
            time.sleep(PERIOD - into_step + 0.2)
            continue
        cur = current_step(now)
        step = cur if after_step is None else max(cur, after_step + 1)
        if step > cur + 1:
            # Would be outside the window: wait for the next step.
            time.sleep(PERIOD - into_step + 0.2)
            continue
        return totp.at(step * PERIOD), step


def wrong_code(totp: pyotp.TOTP) -> str:
    """Six digits that are not the code of any step near now."""
    near = {totp.at((current_step() + d) * PERIOD) for d in range(-3, 4)}
    candidate = 0
    while f"{candidate:06d}" in near:
        candidate += 1
    return f"{candidate:06d}"


def jwt_part(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def post(server: AuthgateServer, path: str, body: dict | None = None, token: str | None = None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return requests.post(server.url(path), json=body, headers=headers, timeout=TIMEOUT)


def get(server: AuthgateServer, path: str, token: str):
    return requests.get(server.url(path), headers={"authorization": f"Bearer {token}"}, timeout=TIMEOUT)


def assert_problem(resp: requests.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == status, body
    assert body["code"] == code, body
    for key in ("type", "title", "detail"):
        assert isinstance(body[key], str), body
    return body


def assert_authenticated(resp: requests.Response, amr: list[str]) -> dict:
    assert resp.status_code == 200, (resp.status_code, resp.text)
    body = resp.json()
    assert body["status"] == "authenticated", body
    assert body["token_type"] == "Bearer", body
    assert body["amr"] == amr, body
    claims = jwt_part(body["access_token"], 1)
    assert claims["amr"] == amr, claims
    assert claims["exp"] > time.time(), claims
    return body


def decode_qr_png(data_uri: str) -> str:
    """Decode the QR code in a `data:image/png;base64,…` URI with zxing-cpp."""
    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix), data_uri[:40]
    png = base64.b64decode(data_uri[len(prefix):], validate=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "qr_png is not a PNG"
    image = Image.open(io.BytesIO(png))
    image.load()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected exactly one QR code in qr_png, found {len(found)}"
    assert found[0].valid
    return found[0].text


def authenticator_from_enrollment(enrollment: dict, account: str) -> pyotp.TOTP:
    """What a phone app does: scan the QR, parse the URI, check what it shows."""
    for key in ("secret", "otpauth_uri", "qr_svg", "qr_png", "expires_in"):
        assert key in enrollment, enrollment.keys()
    decoded = decode_qr_png(enrollment["qr_png"])
    assert decoded == enrollment["otpauth_uri"]
    assert "<svg" in enrollment["qr_svg"]

    parsed = urllib.parse.urlsplit(decoded)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp", decoded
    query = urllib.parse.parse_qs(parsed.query)
    assert query["issuer"] == [ISSUER], query
    assert query["secret"] == [enrollment["secret"]], query
    # Google Authenticator only understands these values; explicit or default.
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"], query
    assert query.get("digits", ["6"]) == ["6"], query
    assert query.get("period", ["30"]) == ["30"], query

    totp = pyotp.parse_uri(decoded)
    assert isinstance(totp, pyotp.TOTP)
    assert totp.issuer == ISSUER
    assert totp.name == account
    assert totp.digits == 6
    assert totp.interval == 30
    assert totp.digest is hashlib.sha1
    assert totp.secret == enrollment["secret"]
    # RFC 4648 base32 without padding, at least 160 bits (RFC 4226 §4).
    assert "=" not in enrollment["secret"]
    assert len(base64.b32decode(enrollment["secret"] + "=" * (-len(enrollment["secret"]) % 8))) >= 20
    return totp


# --------------------------------------------------------------------------
# fixtures


REQUIRED_EMAIL = "required.agent@example.com"
REQUIRED_PASSWORD = "interop-password-1"


@pytest.fixture(scope="module")
def server():
    """One server for the module.  Everything the tests need from the admin
    is set up here, right after start, so that no test depends on the state
    another test leaves behind (enabling 2FA ends the admin's other sessions)."""
    # A "+" and an "@" in the account name: both must survive the otpauth
    # label's percent-encoding and come out right in the authenticator.
    srv = AuthgateServer(admin_email="interop+admin@example.com")
    srv.start()
    try:
        token = srv.admin_token()
        r = requests.post(
            srv.url("/v1/users"),
            json={"email": REQUIRED_EMAIL, "name": "Required Agent", "role": "agent",
                  "password": REQUIRED_PASSWORD, "require_two_factor": True},
            headers={"authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )
        assert r.status_code == 201, r.text
        srv.required_user = r.json()["user"]
        srv.initial_admin_token = token
        yield srv
    finally:
        srv.stop()


# --------------------------------------------------------------------------
# tests


def test_server_started_with_the_bootstrap_admin(server):
    assert server.port > 0
    admin_token = server.admin_token()
    me = get(server, "/v1/me", admin_token)
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["email"] == server.admin_email
    assert body["role"] == "admin"
    assert body["two_factor"]["status"] == "disabled"
    # The token is an EdDSA JWT whose key is published in the JWKS.
    header = jwt_part(admin_token, 0)
    jwks = requests.get(server.url("/.well-known/jwks.json"), timeout=TIMEOUT).json()
    assert header["kid"] in {k.get("kid") for k in jwks["keys"]}


def test_self_service_enrollment_login_replay_and_disable(server):
    email, password = server.admin_email, server.admin_password

    # 1. Password-only login: no 2FA yet.
    first = assert_authenticated(server.login(email, password, client="web"), ["pwd"])
    token = first["access_token"]

    # 2. Start enrollment; "scan" the QR code.
    # Starting enrollment from the profile needs the password again (step-up).
    r = post(server, "/v1/me/two-factor/enrollment", {}, token)
    assert_problem(r, 400, "invalid_request")
    r = post(server, "/v1/me/two-factor/enrollment", {"password": password}, token)
    assert r.status_code == 200, r.text
    totp = authenticator_from_enrollment(r.json(), account=email)
    me = get(server, "/v1/me", token).json()
    assert me["two_factor"]["status"] == "pending", me

    # A wrong code leaves the enrollment pending.
    r = post(server, "/v1/me/two-factor/enrollment/confirm", {"code": wrong_code(totp)}, token)
    assert r.status_code == 401, r.text

    # 3. Confirm with the app's current code.
    code, confirm_step = fresh_code(totp)
    r = post(server, "/v1/me/two-factor/enrollment/confirm", {"code": code}, token)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "enabled", r.json()
    assert get(server, "/v1/me", token).json()["two_factor"]["status"] == "enabled"

    # 4. The password alone no longer yields a token.
    r = server.login(email, password)
    assert r.status_code == 200, r.text
    challenge = r.json()
    assert challenge["status"] == "otp_required", challenge
    assert "access_token" not in challenge and "refresh_token" not in challenge
    assert challenge["challenge_token"]

    # The confirming code's step is spent: the same code is refused.
    if current_step() <= confirm_step + 1:  # still inside the window
        r = post(server, "/v1/auth/otp", {"challenge_token": challenge["challenge_token"], "code": code})
        assert_problem(r, 401, "code_already_used")

    # 5. A code of a later step completes the login with amr pwd+otp.
    login_code, login_step = fresh_code(totp, after_step=confirm_step)
    r = post(server, "/v1/auth/otp", {"challenge_token": challenge["challenge_token"], "code": login_code})
    second = assert_authenticated(r, ["pwd", "otp"])
    assert jwt_part(second["access_token"], 1)["sub"] == me["id"]

    # 6. Replay: the same code on a new challenge is refused as
    #    code_already_used (not counted as a failure), while it is still
    #    inside the server's time window.
    r = server.login(email, password)
    assert r.json()["status"] == "otp_required", r.text
    assert current_step() <= login_step + 1, "test too slow: replay would be outside the window"
    r = post(server, "/v1/auth/otp", {"challenge_token": r.json()["challenge_token"], "code": login_code})
    assert_problem(r, 401, "code_already_used")
    assert 1 <= int(r.headers["Retry-After"]) <= 30, r.headers

    # 7. Disable: a wrong password changes nothing; the right one alone is not
    #    enough while 2FA is on (step-up); with a fresh code 2FA turns off.
    token2 = second["access_token"]
    r = post(server, "/v1/me/two-factor/disable", {"password": password + "x"}, token2)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    assert get(server, "/v1/me", token2).json()["two_factor"]["status"] == "enabled"
    r = post(server, "/v1/me/two-factor/disable", {"password": password}, token2)
    assert_problem(r, 403, "step_up_required")
    disable_code, _ = fresh_code(totp, after_step=login_step)
    r = post(server, "/v1/me/two-factor/disable", {"password": password, "code": disable_code}, token2)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "disabled", r.json()

    # 8. The next login is authenticated at once, with the password only.
    assert_authenticated(server.login(email, password), ["pwd"])


def test_enrollment_required_at_first_login(server):
    """A user the admin requires 2FA of enrolls during login (QR over the
    challenge token) and gets tokens only after a correct code."""
    email, password = REQUIRED_EMAIL, REQUIRED_PASSWORD
    user = server.required_user
    assert user["email"] == email, user
    assert user["two_factor"]["status"] == "disabled", user
    assert user["two_factor"]["enforced"] is True, user
    assert user["two_factor"]["enforced_by"] == "admin", user

    r = server.login(email, password, client="mobile")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "enrollment_required", r.json()
    challenge = r.json()["challenge_token"]
    assert "access_token" not in r.json()

    r = post(server, "/v1/auth/enrollment", {"challenge_token": challenge})
    assert r.status_code == 200, r.text
    totp = authenticator_from_enrollment(r.json(), account=email)

    r = post(server, "/v1/auth/enrollment/confirm", {"challenge_token": challenge, "code": wrong_code(totp)})
    assert r.status_code == 401, r.text
    code, confirm_step = fresh_code(totp)
    r = post(server, "/v1/auth/enrollment/confirm", {"challenge_token": challenge, "code": code})
    body = assert_authenticated(r, ["pwd", "otp"])

    me = get(server, "/v1/me", body["access_token"]).json()
    assert me["two_factor"]["status"] == "enabled", me

    # An enforced user cannot switch 2FA off.
    r = post(server, "/v1/me/two-factor/disable", {"password": password}, body["access_token"])
    assert_problem(r, 403, "two_factor_enforced")

    # From now on the login asks for a code; a later step's code works.
    r = server.login(email, password)
    assert r.json()["status"] == "otp_required", r.text
    login_code, _ = fresh_code(totp, after_step=confirm_step)
    r = post(server, "/v1/auth/otp", {"challenge_token": r.json()["challenge_token"], "code": login_code})
    assert_authenticated(r, ["pwd", "otp"])
