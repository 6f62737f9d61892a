"""Account recovery read from a real SMTP server (aiosmtpd): a forgotten
password with two-factor authentication, an invitation, and a support-sent
reset. The Rust suite reads the same mails from the default `.eml` files;
here they travel over SMTP exactly as they would to a user's mailbox."""

from __future__ import annotations

import re
import subprocess

import requests
from aiosmtpd.controller import Controller

from authgate_server import AuthgateServer, authgate_bin
from test_events import FAST, Inbox, enable_two_factor_with_codes, free_port, wait_until

PUBLIC_URL = "https://login.acme.test"
TOKEN = re.compile(r"pr_[A-Za-z0-9_-]{20,}")


class SmtpServer:
    def __enter__(self) -> "SmtpServer":
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def env(self) -> dict[str, str]:
        return {**FAST, "AUTHGATE_SMTP_URL": f"smtp://127.0.0.1:{self.port}",
                "AUTHGATE_MAIL_FROM": "Authgate <security@authgate.test>",
                "AUTHGATE_PUBLIC_URL": PUBLIC_URL}

    def mail(self, to: str, subject: str, after: int = 0):
        """The first mail to `to` whose subject contains `subject`, waiting
        for it; `after` skips mails already seen."""
        return wait_until(
            f"a mail {subject!r} to {to}",
            lambda: next((m for rcpt, m in self.inbox.messages[after:]
                          if rcpt == [to] and subject in str(m["Subject"])), None),
        )

    def token(self, to: str, subject: str, after: int = 0) -> str:
        text = self.mail(to, subject, after).get_content()
        link = f"{PUBLIC_URL}/console/#/reset-password?token="
        assert link in text, text
        return TOKEN.search(text).group(0)


def confirm(base: str, body: dict) -> requests.Response:
    return requests.post(f"{base}/v1/auth/password-reset/confirm", json=body, timeout=10)


def test_a_forgotten_password_with_two_factor_needs_the_code_and_never_drops_it():
    with SmtpServer() as smtp, AuthgateServer(extra_env=smtp.env) as server:
        base, email = server.base_url, server.admin_email
        secret, recovery = enable_two_factor_with_codes(base, server.admin_token(), server.admin_password)

        for who in (email, "nobody@acme.test"):
            r = requests.post(f"{base}/v1/auth/password-reset", json={"email": who}, timeout=10)
            assert r.status_code == 202, r.text
        token = smtp.token(email, "Reset your Authgate password")
        assert not any(rcpt == ["nobody@acme.test"] for rcpt, _ in smtp.inbox.messages)

        r = confirm(base, {"token": token, "new_password": "a new long password"})
        assert r.status_code == 403 and r.json()["code"] == "second_factor_required", r.text
        r = confirm(base, {"token": token, "new_password": "a new long password",
                           "recovery_code": recovery[0]})
        assert r.status_code == 204, r.text
        changed = smtp.mail(email, "password was changed").get_content()
        assert token not in changed and "a new long password" not in changed

        # The account still asks for its second factor (the code of this
        # 30-second step was spent turning 2FA on: a recovery code it is).
        r = server.login(email, "a new long password")
        assert r.json()["status"] == "otp_required"
        r = requests.post(f"{base}/v1/auth/otp", timeout=10, json={
            "challenge_token": r.json()["challenge_token"], "recovery_code": recovery[1]})
        assert r.status_code == 200 and r.json()["status"] == "authenticated", r.text
        assert secret not in changed
        # The token died with its use.
        r = confirm(base, {"token": token, "new_password": "yet another password",
                           "recovery_code": recovery[2]})
        assert r.status_code == 400 and r.json()["code"] == "invalid_password_token", r.text


def test_an_invited_agent_sets_a_password_from_the_mail_and_enrolls_at_first_login():
    # The operator's escape hatch (admins setting passwords) off, as by default.
    env = {"AUTHGATE_ADMIN_SET_PASSWORDS": "false"}
    with SmtpServer() as smtp, AuthgateServer(extra_env={**smtp.env, **env}) as server:
        base = server.base_url
        h = {"Authorization": f"Bearer {server.admin_token()}"}
        body = {"email": "ana@acme.test", "name": "Ana", "role": "agent", "require_two_factor": True}
        r = requests.post(f"{base}/v1/users", json={**body, "password": "the admin's choice"},
                          headers=h, timeout=10)
        assert r.status_code == 400, "admins do not set passwords by default"
        r = requests.post(f"{base}/v1/users", json=body, headers=h, timeout=10)
        assert r.status_code == 201 and r.json()["invitation_sent"] is True, r.text
        assert "pr_" not in r.text
        token = smtp.token("ana@acme.test", "invited")

        r = confirm(base, {"token": token, "new_password": "ana's own long password"})
        assert r.status_code == 204, r.text
        r = server.login("ana@acme.test", "ana's own long password")
        assert r.json()["status"] == "enrollment_required", r.text


def test_support_mails_a_reset_link_and_never_sees_the_token():
    with SmtpServer() as smtp, AuthgateServer(extra_env=smtp.env) as server:
        done = subprocess.run(
            [str(authgate_bin()), "support", "send-password-reset",
             "--email", server.admin_email, "--reason", "forgot password, ticket 4712"],
            env=server.env, cwd=server.data_dir, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        token = smtp.token(server.admin_email, "Reset your Authgate password")
        assert token not in done.stdout and token not in done.stderr
        r = confirm(server.base_url, {"token": token, "new_password": "support helped me"})
        assert r.status_code == 204, r.text
        assert server.login(server.admin_email, "support helped me").json()["status"] == "authenticated"
