"""The web console in a real browser (Debian's Chromium via Playwright),
against the real release binary. Each test reads as what a person does.

Screenshots of every screen go to target/console-screenshots/ (CI
artifacts); the page-weight figures to page-weight.json beside them.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import requests
from playwright.sync_api import Page, expect

from conftest import SHOTS, Authenticator, decode_qr, link_in, shot, wait_for_mail

TIMEOUT = 10


# --------------------------------------------------------------------------
# what a person does


def sign_in(page: Page, email: str, password: str, at: str = "/console/#/profile") -> None:
    page.goto(at)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def heading(page: Page, text: str):
    return expect(page.get_by_role("heading", level=1, name=text))


def enroll_from_screen(page: Page) -> Authenticator:
    """Scans the QR code on the screen like a phone and proves it works."""
    qr = page.get_by_alt_text("QR code")
    expect(qr).to_be_visible()
    uri = decode_qr(qr.screenshot())
    assert uri.startswith("otpauth://totp/"), uri
    link = page.get_by_role("link", name="Open in an authenticator app on this device")
    assert link.get_attribute("href") == uri
    secret = page.locator("code.secret").inner_text()
    assert f"secret={secret}" in uri
    app = Authenticator(uri)
    page.get_by_label("Authentication code", exact=True).fill(app.code())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Two-factor authentication is on")).to_be_visible()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in recovery), recovery
    app.recovery_codes = recovery
    return app


def error_of(page: Page, label: str):
    """The error shown for the field labelled `label` (its aria-describedby)."""
    field = page.get_by_label(label, exact=True)
    ids = field.get_attribute("aria-describedby").split()
    return page.locator("#" + ids[-1])


def api_admin_token(server) -> str:
    return server.admin_token()


def create_user(server, email: str, password: str, require: bool = False) -> None:
    r = requests.post(
        server.url("/v1/users"),
        json={"email": email, "name": email.split("@")[0].title(), "role": "agent",
              "password": password, "require_two_factor": require},
        headers={"authorization": "Bearer " + api_admin_token(server)}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text


# --------------------------------------------------------------------------
# the flows


def test_an_admin_requires_2fa_of_a_new_agent_who_enrolls_at_first_sign_in_then_signs_in_with_a_code(page, server):
    agent, password = "ana@console.test", "ana's long password"

    # The admin adds Ana with 2FA required.
    sign_in(page, server.admin_email, server.admin_password)
    heading(page, "Profile").to_be_visible()
    shot(page, "profile-admin")
    page.get_by_role("link", name="Organization").click()
    add = page.get_by_role("form", name="Add user")
    add.get_by_label("Email", exact=True).fill(agent)
    add.get_by_label("Name", exact=True).fill("Ana")
    add.get_by_label("Password", exact=True).fill(password)
    add.get_by_label("Require two-factor authentication").check()
    add.get_by_role("button", name="Add user").click()
    expect(page.get_by_text(f"Added {agent}.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=agent)
    expect(row.get_by_text("Required, not set up")).to_be_visible()
    expect(row.get_by_label("Require two-factor authentication")).to_be_checked()
    shot(page, "organization")
    sign_out(page)

    # A wrong password is shown next to the password field.
    sign_in(page, agent, "not her password")
    expect(error_of(page, "Password")).to_contain_text("password is incorrect")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    shot(page, "sign-in-error")

    # Her first sign-in shows the enrollment screen, QR code and all.
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    heading(page, "Set up two-factor authentication").to_be_visible()
    shot(page, "enrollment")
    app = enroll_from_screen(page)
    shot(page, "recovery-codes")
    page.get_by_role("button", name="Continue").click()
    heading(page, "Profile").to_be_visible()
    expect(page.locator("#two-factor-status")).to_have_text("Enabled")
    expect(page.get_by_text("(required by your administrator)")).to_be_visible()
    sign_out(page)

    # The next sign-in asks for the authentication code.
    sign_in(page, agent, password)
    heading(page, "Two-factor authentication").to_be_visible()
    expect(page.get_by_role("button", name="Use a recovery code")).to_be_visible()
    shot(page, "code-step")
    page.get_by_label("Authentication code", exact=True).fill(app.code())
    page.get_by_role("button", name="Verify").click()
    heading(page, "Profile").to_be_visible()
    shot(page, "profile-agent")

    # Forced 2FA cannot be turned off: the administrator's message shows.
    page.get_by_role("button", name="Disable two-factor authentication").click()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("form", name="Disable two-factor authentication").get_by_role(
        "button", name="Disable two-factor authentication").click()
    expect(error_of(page, "Password")).to_contain_text("required by your administrator")
    shot(page, "disable-refused")
    page.reload()
    expect(page.locator("#two-factor-status")).to_have_text("Enabled")

    # Her login history shows every attempt, with client and address.
    history = page.get_by_role("table", name="Sign-in attempts, newest first")
    outcomes = history.locator("[data-outcome]")
    expect(outcomes.first).to_be_visible()
    seen = outcomes.evaluate_all("els => els.map(e => e.dataset.outcome)")
    for expected in ["success", "otp_required", "enrollment_required", "wrong_password"]:
        assert expected in seen, seen
    first_row = history.get_by_role("row").nth(1)
    expect(first_row).to_contain_text("web")
    expect(first_row).to_contain_text("127.0.0.1")
    sign_out(page)

    # The admin sees that she set up 2FA and when she last signed in.
    sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization")
    row = page.get_by_role("row").filter(has_text=agent)
    expect(row.get_by_text("Enabled")).to_be_visible()
    assert re.search(r"\d", row.locator("td").nth(4).inner_text()), "a last-login time"
    page.get_by_role("link", name="Audit log").click()
    heading(page, "Audit log").to_be_visible()
    page.get_by_label("User", exact=True).select_option(label=agent)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="two_factor.enabled")).to_be_visible()
    shot(page, "audit-log")


def test_a_self_enrolled_agent_turns_2fa_on_in_the_profile_and_off_with_the_password(page, server):
    agent, password = "bo@console.test", "bo's long password"
    create_user(server, agent, password)
    sign_in(page, agent, password)
    heading(page, "Profile").to_be_visible()
    expect(page.locator("#two-factor-status")).to_have_text("Off")

    page.get_by_role("button", name="Enable two-factor authentication").click()
    # Starting an enrollment asks for the password again (step-up).
    page.get_by_role("form", name="Enable two-factor authentication").get_by_label(
        "Password", exact=True).fill(password)
    page.get_by_role("button", name="Continue").click()
    app = enroll_from_screen(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#two-factor-status")).to_have_text("Enabled")
    expect(page.locator("#recovery-remaining")).to_have_text("10")

    # Without the phone, a saved recovery code stands in for the code.
    sign_out(page)
    sign_in(page, agent, password)
    page.get_by_role("button", name="Use a recovery code").click()
    page.get_by_label("Recovery code", exact=True).fill(app.recovery_codes[0])
    page.get_by_role("button", name="Verify").click()
    heading(page, "Profile").to_be_visible()
    expect(page.locator("#recovery-remaining")).to_have_text("9")

    page.get_by_role("button", name="Disable two-factor authentication").click()
    confirm = page.get_by_role("form", name="Disable two-factor authentication")
    # The password and, 2FA being on, a current code.
    confirm.get_by_label("Password", exact=True).fill("a wrong password")
    confirm.get_by_label("Authentication code", exact=True).fill(app.code())
    confirm.get_by_role("button", name="Disable two-factor authentication").click()
    expect(error_of(page, "Password")).to_contain_text("password")
    confirm.get_by_label("Password", exact=True).fill(password)
    confirm.get_by_label("Authentication code", exact=True).fill(app.code())
    confirm.get_by_role("button", name="Disable two-factor authentication").click()
    expect(page.locator("#two-factor-status")).to_have_text("Off")


def test_signing_in_works_with_the_keyboard_alone(page, server):
    page.goto("/console/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    focused_label = "document.activeElement.labels && document.activeElement.labels[0].textContent"
    assert page.evaluate(focused_label) == "Email"
    page.keyboard.type(server.admin_email)
    page.keyboard.press("Tab")
    assert page.evaluate(focused_label) == "Password"
    page.keyboard.type(server.admin_password)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Sign in"
    page.keyboard.press("Enter")
    heading(page, "Profile").to_be_visible()
    # Focus moved to the new screen's heading, so the next Tab goes on from there.
    assert page.evaluate("document.activeElement.tagName") == "H1"


def test_the_console_fits_a_phone_screen(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server.base_url,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto("/console/")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        shot(page, "phone-sign-in")
        sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization")
        expect(page.get_by_role("heading", name="Users")).to_be_visible()
        for screen, title in [("#/organization", "Users"), ("#/profile", "Sessions")]:
            page.goto("/console/" + screen)
            expect(page.get_by_role("heading", name=title)).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{screen} scrolls sideways by {overflow}px on a phone"
        shot(page, "phone-profile")
    finally:
        context.close()


def test_a_reload_an_expired_access_token_and_a_server_restart_keep_the_persons_place(page, server):
    sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization/audit")
    heading(page, "Audit log").to_be_visible()

    # A reload forgets the access token (memory only) but not the place.
    page.reload()
    heading(page, "Audit log").to_be_visible()
    assert page.evaluate("Object.keys(localStorage).length") == 0

    # Sixteen minutes later the access token has expired: the next screen
    # gets a new one with the refresh token, without asking the person.
    page.clock.install()
    page.clock.fast_forward("16:00")
    with page.expect_request("**/v1/auth/refresh"):
        page.get_by_role("link", name="Organization").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()

    # The server goes away and comes back: the console waits and carries on.
    server.kill_only()
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("#status")).to_have_text(re.compile("Cannot reach the server"))
    shot(page, "server-restarting", full_page=False)
    server.start_again()
    heading(page, "Profile").to_be_visible()
    expect(page.locator("#status")).to_be_hidden()


def test_two_tabs_of_one_session_refresh_at_once_without_tripping_reuse_detection(page, server):
    sign_in(page, server.admin_email, server.admin_password)
    heading(page, "Profile").to_be_visible()
    # A tab opened from this one starts with a copy of its sessionStorage,
    # hence the same refresh token.
    with page.context.expect_page() as opened:
        page.evaluate("window.open(location.href)")
    other = opened.value
    heading(other, "Profile").to_be_visible()
    for _ in range(3):
        # Both tabs lose their access token and refresh at the same moment.
        page.evaluate("setTimeout(() => location.reload(), 0)")
        other.evaluate("setTimeout(() => location.reload(), 0)")
        heading(page, "Profile").to_be_visible()
        heading(other, "Profile").to_be_visible()
    # The session is alive in both: a reused refresh token would have ended it.
    for tab in (page, other):
        tab.get_by_role("link", name="Organization").click()
        expect(tab.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def test_the_first_load_is_small_compressed_and_stays_on_its_origin(browser, server):
    context = browser.new_context(base_url=server.base_url)
    page = context.new_page()
    loaded = []
    page.on("requestfinished", lambda req: loaded.append(req))
    errors = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto("/console/", wait_until="networkidle")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        origin = urlsplit(server.base_url)
        files = []
        for req in loaded:
            url = urlsplit(req.url)
            assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), f"request left the origin: {req.url}"
            sizes = req.sizes()
            resp = req.response()
            files.append({
                "path": url.path,
                "status": resp.status,
                "encoding": resp.headers.get("content-encoding", ""),
                "body_bytes": sizes["responseBodySize"],
                "header_bytes": sizes["responseHeadersSize"],
            })
        body = sum(f["body_bytes"] for f in files)
        total = body + sum(f["header_bytes"] for f in files)
        report = {"requests": len(files), "compressed_body_bytes": body, "transferred_bytes": total, "files": files}
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "page-weight.json").write_text(json.dumps(report, indent=2))
        print(f"\nconsole first load: {len(files)} requests, {body} B compressed bodies, {total} B with headers")
        assert total < 150 * 1024, report
        assert all(f["encoding"] in ("br", "gzip", "zstd") for f in files if f["path"].endswith((".js", ".css", "/"))), files
        assert not errors, errors
        shot(page, "sign-in")
    finally:
        context.close()


def test_an_admin_lifts_and_requires_2fa_per_user_and_resets_a_lost_authenticator(page, server):
    agent, password = "cy@console.test", "cy's long password"
    create_user(server, agent, password, require=True)
    # Cy sets up 2FA over the API, as any other client would.
    r = requests.post(server.url("/v1/auth/login"), json={"email": agent, "password": password}, timeout=TIMEOUT)
    challenge = r.json()["challenge_token"]
    ticket = requests.post(server.url("/v1/auth/enrollment"), json={"challenge_token": challenge}, timeout=TIMEOUT).json()
    code = Authenticator(ticket["otpauth_uri"]).code()
    r = requests.post(server.url("/v1/auth/enrollment/confirm"), json={"challenge_token": challenge, "code": code}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text

    sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization")
    row = lambda: page.get_by_role("row").filter(has_text=agent)  # noqa: E731 (the table is redrawn)
    expect(row().get_by_text("Enabled")).to_be_visible()
    row().get_by_label("Require two-factor authentication").uncheck()
    expect(row().get_by_label("Require two-factor authentication")).not_to_be_checked()
    row().get_by_role("button", name="Reset 2FA").click()
    expect(row().get_by_text("Off")).to_be_visible()
    expect(row().get_by_role("button", name="Reset 2FA")).to_have_count(0)
    row().get_by_label("Require two-factor authentication").check()
    expect(row().get_by_text("Required, not set up")).to_be_visible()


# --------------------------------------------------------------------------
# account recovery, per-user mails and removal, webhooks, API keys: on a
# server as shipped (invitations, mails linking to the console)


def as_admin(server) -> dict:
    return {"authorization": "Bearer " + server.admin_token()}


def invite_and_set_password(server, email: str, password: str) -> str:
    """An admin invites `email` over the API; the invitee sets a password
    with the mail's token, as another client would. Returns the user id."""
    r = requests.post(server.url("/v1/users"), json={"email": email, "name": email.split("@")[0].title(), "role": "agent"},
                      headers=as_admin(server), timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    token = link_in(wait_for_mail(server, email, "invited")).split("token=")[1]
    r = requests.post(server.url("/v1/auth/password-reset/confirm"), json={"token": token, "new_password": password}, timeout=TIMEOUT)
    assert r.status_code == 204, r.text
    users = requests.get(server.url("/v1/users?limit=100"), headers=as_admin(server), timeout=TIMEOUT).json()["items"]
    return next(u["id"] for u in users if u["email"] == email)


def enroll_over_the_api(server, email: str, password: str) -> Authenticator:
    tokens = server.login(email, password).json()
    auth = {"authorization": "Bearer " + tokens["access_token"]}
    ticket = requests.post(server.url("/v1/me/two-factor/enrollment"), json={"password": password}, headers=auth, timeout=TIMEOUT)
    assert ticket.status_code == 200, ticket.text
    app = Authenticator(ticket.json()["otpauth_uri"])
    r = requests.post(server.url("/v1/me/two-factor/enrollment/confirm"), json={"code": app.code()}, headers=auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return app


def set_password_from_link(page: Page, link: str, password: str) -> None:
    page.goto(link)
    heading(page, "Choose your password").to_be_visible()
    # The token leaves the address bar (and so the browser's history) at once.
    assert "pr_" not in page.url, page.url
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_role("button", name="Set password").click()


def test_an_invited_agent_opens_the_link_from_the_mail_sets_her_password_and_signs_in(mail_page, mail_server):
    page, server = mail_page, mail_server
    agent, password = "dee@console.test", "dee's own long password"

    sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization")
    add = page.get_by_role("form", name="Add user")
    add.get_by_label("Email", exact=True).fill(agent)
    add.get_by_label("Name", exact=True).fill("Dee")
    add.get_by_role("button", name="Add user").click()
    expect(page.get_by_text(f"An invitation email is on its way to {agent}.")).to_be_visible()
    sign_out(page)

    link = link_in(wait_for_mail(server, agent, "You are invited"))
    assert link.startswith(server.base_url + "/console/#/reset-password?token=pr_"), link
    set_password_from_link(page, link, "short")
    expect(error_of(page, "New password")).to_contain_text("at least 8 characters")
    shot(page, "reset-password")
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status").filter(has_text="Your password is set")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Email", exact=True).fill(agent)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    heading(page, "Profile").to_be_visible()
    sign_out(page)

    # The link works once.
    set_password_from_link(page, link, "yet another long password")
    expect(page.get_by_text("This link was already used")).to_be_visible()


def test_a_forgotten_password_is_reset_from_the_mail_and_an_account_with_2fa_is_asked_for_its_code(mail_page, mail_server):
    page, server = mail_page, mail_server
    agent, password, new_password = "fay@console.test", "fay's first long password", "fay's second long password"
    invite_and_set_password(server, agent, password)
    app = enroll_over_the_api(server, agent, password)

    page.goto("/console/")
    page.get_by_role("link", name="Forgot password?").click()
    heading(page, "Forgot password").to_be_visible()
    page.get_by_label("Email", exact=True).fill(agent)
    page.get_by_role("button", name="Send reset link").click()
    # The same neutral answer whether or not the address has an account.
    expect(page.get_by_text("Check your email.")).to_be_visible()
    expect(page.get_by_text(f"If {agent} belongs to an account")).to_be_visible()
    shot(page, "forgot-password")

    set_password_from_link(page, link_in(wait_for_mail(server, agent, "Reset your Authgate password")), new_password)
    code = page.get_by_label("Authentication code", exact=True)
    expect(code).to_be_visible()
    expect(page.get_by_role("button", name="Use a recovery code")).to_be_visible()
    code.fill("000000")
    page.get_by_role("button", name="Set password").click()
    expect(error_of(page, "Authentication code")).not_to_be_empty()
    shot(page, "reset-password-code")
    code.fill(app.code())
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your password is set")).to_be_visible()

    page.get_by_label("Email", exact=True).fill(agent)
    page.get_by_label("Password", exact=True).fill(new_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Authentication code", exact=True).fill(app.code())
    page.get_by_role("button", name="Verify").click()
    heading(page, "Profile").to_be_visible()


def test_an_admin_resends_an_invitation_sends_a_password_reset_and_removes_a_user_but_not_herself(mail_page, mail_server):
    page, server = mail_page, mail_server
    agent = "gil@console.test"
    r = requests.post(server.url("/v1/users"), json={"email": agent, "name": "Gil", "role": "agent"},
                      headers=as_admin(server), timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    first = link_in(wait_for_mail(server, agent, "You are invited"))
    # Hal set his password from his invitation but never signed in.
    hal = "hal@console.test"
    invite_and_set_password(server, hal, "hal's own long password")

    sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization")
    row = lambda email: page.get_by_role("row").filter(has_text=email)  # noqa: E731 (the table is redrawn)
    row(hal).get_by_role("button", name="Resend invitation").click()
    expect(row(hal).locator(".said.error")).to_contain_text("already")
    row(agent).get_by_role("button", name="Resend invitation").click()
    expect(row(agent).get_by_text(f"A new invitation is on its way to {agent}")).to_be_visible()
    second = link_in(wait_for_mail(server, agent, "You are invited", after=1))
    assert second != first

    row(agent).get_by_role("button", name="Send password reset").click()
    expect(row(agent).get_by_text(f"A password reset email is on its way to {agent}")).to_be_visible()
    wait_for_mail(server, agent, "Reset your Authgate password")

    # An admin cannot remove herself: the refusal shows in her row.
    me = row(server.admin_email)
    me.get_by_role("button", name="Remove user").click()
    me.get_by_role("button", name="Yes, remove").click()
    expect(me.locator(".said.error")).not_to_be_empty()
    shot(page, "remove-refused")

    row(agent).get_by_role("button", name="Remove user").click()
    expect(row(agent).get_by_text(f"Remove {agent}?")).to_be_visible()
    row(agent).get_by_role("button", name="Cancel").click()
    expect(row(agent).get_by_role("button", name="Remove user")).to_be_focused()
    row(agent).get_by_role("button", name="Remove user").click()
    row(agent).get_by_role("button", name="Yes, remove").click()
    expect(page.get_by_text(f"Removed {agent}.")).to_be_visible()
    expect(row(agent)).to_have_count(0)


class Receiver:
    """A webhook receiver on loopback that answers 204 and keeps what it got."""

    def __init__(self):
        import http.server
        import threading

        got = self.got = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                got.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/authgate"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def signed_by(secret: str, headers: dict, body: bytes) -> bool:
    """Standard Webhooks: v1,<base64 HMAC-SHA256 of id.timestamp.body>."""
    import base64
    import hashlib
    import hmac

    key = base64.b64decode(secret.removeprefix("whsec_"))
    h = {k.lower(): v for k, v in headers.items()}
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(s.split(",", 1)[1] == want for s in h["webhook-signature"].split())


def test_an_admin_adds_a_webhook_sees_its_secret_once_sends_a_test_event_and_reads_the_deliveries(mail_page, mail_server):
    page, server = mail_page, mail_server
    receiver = Receiver()
    try:
        sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization")
        expect(page.get_by_role("heading", name="Users")).to_be_visible()
        page.get_by_role("link", name="Webhooks").click()
        heading(page, "Webhooks").to_be_visible()
        add = page.get_by_role("form", name="Add webhook")

        # Problems land next to what they are about.
        add.get_by_label("URL", exact=True).fill("ftp://example.com/hook")
        add.get_by_label("two_factor.enabled", exact=True).check()
        add.get_by_role("button", name="Add webhook").click()
        expect(error_of(page, "URL")).to_contain_text("url must be an absolute http(s) URL")
        add.get_by_label("two_factor.enabled", exact=True).uncheck()
        add.get_by_label("URL", exact=True).fill(receiver.url)
        add.get_by_role("button", name="Add webhook").click()
        expect(add.locator('[data-error-for="events"]')).to_contain_text("events must list")

        add.get_by_label("two_factor.enabled", exact=True).check()
        add.get_by_label("user.removed", exact=True).check()
        add.get_by_role("button", name="Add webhook").click()
        secret = page.locator('[data-shown-once="Signing secret"]')
        expect(secret).to_have_text(re.compile(r"^whsec_"))
        secret = secret.inner_text()
        expect(page.get_by_role("button", name="Copy signing secret")).to_be_visible()
        row = page.get_by_role("row").filter(has_text=receiver.url)
        expect(row).to_contain_text("two_factor.enabled, user.removed")
        shot(page, "webhooks")

        row.get_by_role("link", name=receiver.url).click()
        heading(page, f"Webhook to {receiver.url}").to_be_visible()
        page.get_by_role("button", name="Send test event").click()
        expect(page.get_by_text("webhook.test event is queued")).to_be_visible()
        delivered = page.get_by_role("row").filter(has_text="webhook.test").locator('[data-state="delivered"]')
        for _ in range(50):
            if delivered.count():
                break
            page.wait_for_timeout(200)
            page.get_by_role("button", name="Refresh deliveries").click()
        expect(delivered).to_be_visible()
        headers, body = receiver.got[-1]
        assert json.loads(body)["type"] == "webhook.test"
        assert signed_by(secret, headers, body), headers
        shot(page, "webhook-deliveries")

        page.get_by_role("button", name="Rotate secret").click()
        rotated = page.locator('[data-shown-once="New signing secret"]')
        expect(rotated).to_have_text(re.compile(r"^whsec_"))
        assert rotated.inner_text() != secret

        page.get_by_role("button", name="Turn off").click()
        expect(page.get_by_role("button", name="Turn on")).to_be_visible()
        expect(page.locator(".badge").filter(has_text="Off")).to_be_visible()

        page.get_by_role("button", name="Delete webhook").click()
        page.get_by_role("button", name="Yes, delete").click()
        heading(page, "Webhooks").to_be_visible()
        expect(page.get_by_text("No webhooks yet.")).to_be_visible()
    finally:
        receiver.close()


def test_an_admin_creates_an_api_key_shown_once_that_works_within_its_scopes_until_revoked(mail_page, mail_server):
    page, server = mail_page, mail_server
    sign_in(page, server.admin_email, server.admin_password, at="/console/#/organization")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_role("link", name="API keys").click()
    heading(page, "API keys").to_be_visible()
    create = page.get_by_role("form", name="Create API key")
    create.get_by_label("Name", exact=True).fill("Helpdesk sync")
    create.get_by_label("users:read", exact=False).check()
    create.get_by_label("Expires on", exact=True).fill("2001-01-01")
    create.get_by_role("button", name="Create API key").click()
    expect(error_of(page, "Expires on")).to_contain_text("expires_at must be in the future")
    create.get_by_label("Expires on", exact=True).fill("2099-12-31")
    create.get_by_role("button", name="Create API key").click()

    shown = page.locator('[data-shown-once="API key"]')
    expect(shown).to_have_text(re.compile(r"^agk_"))
    key = {"authorization": "Bearer " + shown.inner_text()}
    expect(page.get_by_role("button", name="Copy API key")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Helpdesk sync")
    expect(row).to_contain_text("users:read")
    shot(page, "api-keys")
    assert requests.get(server.url("/v1/users"), headers=key, timeout=TIMEOUT).status_code == 200
    r = requests.get(server.url("/v1/audit-events"), headers=key, timeout=TIMEOUT)
    assert r.status_code == 403 and r.json()["code"] == "insufficient_scope", r.text

    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_text("Revoked Helpdesk sync.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Helpdesk sync")).to_have_count(0)
    assert requests.get(server.url("/v1/users"), headers=key, timeout=TIMEOUT).status_code == 401


def test_a_remembered_device_skips_the_code_until_the_person_forgets_it(page, server):
    agent, password = "remi@console.test", "remi's long password"
    create_user(server, agent, password)
    app = enroll_over_the_api(server, agent, password)

    sign_in(page, agent, password)
    heading(page, "Two-factor authentication").to_be_visible()
    page.get_by_label("Authentication code", exact=True).fill(app.code())
    page.get_by_label("Remember this device", exact=True).check()
    page.get_by_role("button", name="Verify").click()
    heading(page, "Profile").to_be_visible()
    devices = page.get_by_role("table", name="Devices that skip the code")
    expect(devices.get_by_role("row")).to_have_count(2)  # header + this device

    # Next sign-in in this tab: the password, and no code.
    sign_out(page)
    sign_in(page, agent, password)
    heading(page, "Profile").to_be_visible()
    expect(page.get_by_role("table", name="Sign-in attempts, newest first").get_by_role("row").nth(1)).to_contain_text(
        "Signed in on a remembered device")

    page.get_by_role("button", name=re.compile("^Forget device")).click()
    expect(page.get_by_text("No device skips the code.")).to_be_visible()
    sign_out(page)
    sign_in(page, agent, password)
    heading(page, "Two-factor authentication").to_be_visible()


def test_a_person_adds_a_new_phone_and_removes_the_old_one_without_an_admin(page, server):
    agent, password = "nico@console.test", "nico's long password"
    create_user(server, agent, password)
    old = enroll_over_the_api(server, agent, password)
    sign_in(page, agent, password)
    heading(page, "Two-factor authentication").to_be_visible()
    page.get_by_label("Authentication code", exact=True).fill(old.code())
    page.get_by_role("button", name="Verify").click()
    heading(page, "Profile").to_be_visible()
    mine = page.get_by_role("table", name="Your authenticators")
    expect(mine.get_by_role("row")).to_have_count(2)  # header + the old phone

    # The new phone: the password and a code from the old one prove it is her.
    page.get_by_role("button", name="Add an authenticator").click()
    add = page.get_by_role("form", name="Add an authenticator")
    add.get_by_label("Password", exact=True).fill(password)
    add.get_by_label("Authentication code", exact=True).fill(old.code())
    add.get_by_label("Name", exact=True).fill("New phone")
    add.get_by_role("button", name="Continue").click()
    qr = page.get_by_alt_text("QR code")
    expect(qr).to_be_visible()
    new = Authenticator(decode_qr(qr.screenshot()))
    verify = page.get_by_role("form", name="Enter the code the app shows")
    verify.get_by_label("Authentication code", exact=True).fill(new.code())
    verify.get_by_role("button", name="Verify").click()
    expect(mine.get_by_role("row")).to_have_count(3)
    shot(page, "authenticators")

    # Then the old phone goes, proven with the new one.
    page.get_by_role("button", name="Remove Authenticator", exact=True).click()
    remove = page.get_by_role("form", name="Remove \u201cAuthenticator\u201d")
    remove.get_by_label("Password", exact=True).fill(password)
    remove.get_by_label("Authentication code", exact=True).fill(new.code())
    remove.get_by_role("button", name="Remove it").click()
    expect(mine.get_by_role("row")).to_have_count(2)
    expect(mine).to_contain_text("New phone")

    # The new phone signs her in; the history says which authenticator.
    sign_out(page)
    sign_in(page, agent, password)
    heading(page, "Two-factor authentication").to_be_visible()
    page.get_by_label("Authentication code", exact=True).fill(new.code())
    page.get_by_role("button", name="Verify").click()
    heading(page, "Profile").to_be_visible()
    expect(page.get_by_role("table", name="Sign-in attempts, newest first").get_by_role("row").nth(1)).to_contain_text(
        "New phone")
