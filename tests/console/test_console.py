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

from conftest import SHOTS, Authenticator, decode_qr, shot

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
