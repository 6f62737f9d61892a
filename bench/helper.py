#!/usr/bin/env python3
"""Helpers for bench/load.sh. Standard library only.

Subcommands:
  start       launch `authgate serve` and wait for the first 200 from /readyz
  seed-basic  password-only users, their login bodies, access and refresh tokens
  seed-otp    users with 2FA enabled and open OTP challenges (one per usable step)
  otp-bodies  {challenge_token, code} bodies, split per wrk thread, one per use
  totp        print the current code of a base32 secret (debugging)

Every HTTP call goes to the URL given (load.sh passes 127.0.0.1 only) and
has a timeout, so nothing here can hang the run.
"""

import argparse
import base64
import concurrent.futures as cf
import hashlib
import hmac
import http.client
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

PERIOD = 30


# --------------------------------------------------------------------- TOTP
def b32_secret(text):
    text = text.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def totp_at_step(key, step, digits=6):
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(n % 10 ** digits).zfill(digits)


def step_now():
    return int(time.time()) // PERIOD


# --------------------------------------------------------------------- HTTP
class Client:
    """One keep-alive connection per thread."""

    def __init__(self, url, timeout=30):
        u = urllib.parse.urlsplit(url)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing to send load to {u.hostname}: 127.0.0.1 only")
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.local = threading.local()

    def _conn(self, fresh=False):
        c = getattr(self.local, "conn", None)
        if c is None or fresh:
            if c is not None:
                c.close()
            c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.local.conn = c
        return c

    def call(self, method, path, body=None, token=None, client_ip=None):
        headers = {"Accept": "application/json"}
        if client_ip:
            # Only honoured by a server that trusts the peer (AUTHGATE_TRUSTED_PROXIES=127.0.0.1/32).
            headers["X-Forwarded-For"] = client_ip
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        for attempt in (0, 1):
            conn = self._conn(fresh=attempt == 1)
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                if attempt == 1:
                    raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return resp.status, parsed


def expect(status, body, want, what):
    if status != want:
        raise RuntimeError(f"{what}: expected {want}, got {status}: {str(body)[:300]}")
    return body


def parallel(n, fn, workers, label):
    """Runs fn(i) for i in range(n) on a thread pool; fails on the first error."""
    t0 = time.monotonic()
    results = [None] * n
    done = 0
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(fn, i): i for i in range(n)}
        for f in cf.as_completed(futures):
            results[futures[f]] = f.result()
            done += 1
            if done % 2000 == 0:
                rate = done / (time.monotonic() - t0)
                print(f"  {label}: {done}/{n} ({rate:.0f}/s)", file=sys.stderr, flush=True)
    return results, time.monotonic() - t0


def admin_token(client, email, password):
    st, body = client.call("POST", "/v1/auth/login", {"email": email, "password": password})
    body = expect(st, body, 200, "admin login")
    if body.get("status") != "authenticated":
        raise RuntimeError(f"admin login: unexpected {body}")
    return body["access_token"]


def create_user(client, admin, email, password, client_ip=None):
    st, body = client.call("POST", "/v1/users", {
        "email": email, "name": email.split("@")[0], "role": "agent",
        "password": password, "require_two_factor": False,
    }, token=admin, client_ip=client_ip)
    expect(st, body, 201, f"create {email}")


def password_login(client, email, password, want_status, client_ip=None):
    st, body = client.call("POST", "/v1/auth/login", {"email": email, "password": password},
                           client_ip=client_ip)
    body = expect(st, body, 200, f"login {email}")
    if body.get("status") != want_status:
        raise RuntimeError(f"login {email}: expected {want_status}, got {body}")
    return body


# --------------------------------------------------------------- subcommands
def cmd_start(a):
    """Starts the server detached; prints `pid port ready_ms password`."""
    out = open(a.stdout, "wb")
    err = open(a.stderr, "ab")
    t0 = time.monotonic()
    proc = subprocess.Popen([a.bin, "serve"], stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    if a.pidfile:
        # Lets load.sh stop the server even if this start is interrupted.
        with open(a.pidfile, "w") as f:
            f.write(str(proc.pid))
    try:
        port, password, ready_ms = wait_ready(a, proc, t0)
    except BaseException:
        proc.kill()
        raise
    print(proc.pid, port, f"{ready_ms:.1f}", password)


def wait_ready(a, proc, t0):
    deadline = t0 + a.timeout
    port = None
    password = "-"
    pat = re.compile(rb"listening on http://127\.0\.0\.1:(\d+)")
    while port is None:
        if proc.poll() is not None:
            sys.stderr.write(open(a.stderr, "rb").read()[-2000:].decode(errors="replace"))
            raise SystemExit(f"authgate exited with {proc.returncode} before listening")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("authgate did not print its address in time")
        text = open(a.stdout, "rb").read()
        m = pat.search(text)
        if m:
            port = int(m.group(1))
            pw = re.search(rb"password: (\S+)", text)
            if pw:
                password = pw.group(1).decode()
            break
        time.sleep(0.001)
    ready_ms = None
    while ready_ms is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("/readyz never answered 200")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                ready_ms = (time.monotonic() - t0) * 1000
            c.close()
        except OSError:
            pass
        if ready_ms is None:
            time.sleep(0.001)
    return port, password, ready_ms


def cmd_seed_basic(a):
    client = Client(a.url)
    admin = admin_token(client, a.admin_email, a.admin_password)
    os.makedirs(a.out, exist_ok=True)
    users = [(f"{a.prefix}{i}@bench.test", f"bench-password-{i:05d}") for i in range(a.users)]
    _, secs = parallel(len(users), lambda i: create_user(client, admin, *users[i]),
                       a.workers, "create")
    print(f"  created {len(users)} password-only users in {secs:.1f}s", file=sys.stderr)
    with open(os.path.join(a.out, "login_bodies.txt"), "w") as f:
        for email, pw in users:
            f.write(json.dumps({"email": email, "password": pw}) + "\n")
    # Sessions: one per user for GET /v1/me, `--sessions` more for refresh.
    n = max(a.sessions, len(users))
    bodies, secs = parallel(
        n, lambda i: password_login(client, *users[i % len(users)], "authenticated"),
        a.workers, "login")
    print(f"  opened {n} sessions in {secs:.1f}s", file=sys.stderr)
    with open(os.path.join(a.out, "access_tokens.txt"), "w") as f:
        for b in bodies[:len(users)]:
            f.write(b["access_token"] + "\n")
    with open(os.path.join(a.out, "refresh_tokens.txt"), "w") as f:
        for b in bodies:
            f.write(b["refresh_token"] + "\n")


def cmd_seed_otp(a):
    """Users with 2FA confirmed, each with `--challenges` open OTP challenges:
    one per code step it may still use (see otp-bodies)."""
    client = Client(a.url)
    admin = admin_token(client, a.admin_email, a.admin_password)

    def one(i):
        email, pw = f"{a.prefix}{i}@bench.test", f"bench-password-{i:05d}"
        # With --spread-addresses each user logs in from its own (made-up)
        # address: the password-stage limits count the recent login events
        # of the client address on every login, so thousands of logins from
        # 127.0.0.1 alone make seeding quadratic.
        ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" if a.spread_addresses else None
        create_user(client, admin, email, pw, client_ip=ip)
        tok = password_login(client, email, pw, "authenticated", client_ip=ip)["access_token"]
        st, enr = client.call("POST", "/v1/me/two-factor/enrollment", {"password": pw},
                              token=tok, client_ip=ip)
        enr = expect(st, enr, 200, f"enrollment {email}")
        key = b32_secret(enr["secret"])
        step = step_now()
        st, body = client.call("POST", "/v1/me/two-factor/enrollment/confirm",
                               {"code": totp_at_step(key, step)}, token=tok, client_ip=ip)
        if st not in (200, 204):
            raise RuntimeError(f"confirm {email}: {st} {body}")
        challenges = [password_login(client, email, pw, "otp_required",
                                     client_ip=ip)["challenge_token"]
                      for _ in range(a.challenges)]
        return {"challenges": challenges, "secret": enr["secret"], "confirmed_step": step,
                "at": time.time(), "ip": ip}

    rows, secs = parallel(a.users, one, a.workers, "2fa users")
    with open(a.out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"  {a.users} users with 2FA and {a.challenges} open challenge(s) each in {secs:.1f}s "
          f"({a.users / secs:.0f} users/s)", file=sys.stderr)


def cmd_otp_bodies(a):
    """Per-thread files of {challenge_token, code} bodies, one line per use.

    A user may log in once per code step, with steps strictly increasing
    (the confirming step counts as used). With the window +-1, at step C
    the steps C-1, C and C+1 are accepted, so a user confirmed at step
    S <= C-2 can succeed three times: with C-1, then C, then C+1, each on a
    challenge of its own. Bodies are written pass by pass (all first uses,
    then all second uses...) and each user stays on one wrk thread, so a
    user's earlier step is always sent (and answered) long before its later
    one. C-1 is only used when at least --min-valid-secs remain in step C
    (its code expires with step C); otherwise this waits for the next step.
    """
    rows = [json.loads(line) for line in open(a.state)]
    # Challenges live 300 s: leave out users whose challenges would expire
    # during the run.
    fresh = [r for r in rows if time.time() - r["at"] < a.max_challenge_age]
    if len(fresh) < len(rows):
        print(f"  left out {len(rows) - len(fresh)} users whose challenges are older than "
              f"{a.max_challenge_age:.0f}s", file=sys.stderr)
    rows = fresh
    now = time.time()
    left = PERIOD - now % PERIOD
    if a.passes >= 3 and left < a.min_valid_secs:
        print(f"  waiting {left:.1f}s for a fresh code step", file=sys.stderr)
        time.sleep(left + 0.2)
    current = step_now()
    files = [open(f"{a.out}.{t}", "w") for t in range(a.threads)]
    per_pass = []
    for p in range(a.passes):
        n = 0
        for i, r in enumerate(rows):
            steps = [s for s in (current - 1, current, current + 1) if s > r["confirmed_step"]]
            steps = steps[-min(a.passes, len(r["challenges"])):]
            if p < len(steps):
                code = totp_at_step(b32_secret(r["secret"]), steps[p])
                body = {"challenge_token": r["challenges"][p], "code": code}
                # The code step comes from the address the user logged in
                # from (as a real client's would), so it is no new sign-in.
                prefix = f"{r['ip']}\t" if r.get("ip") else ""
                files[i % a.threads].write(prefix + json.dumps(body) + "\n")
                n += 1
        per_pass.append(n)
    for f in files:
        f.close()
    print(f"  wrote {sum(per_pass)} OTP bodies (uses per pass {per_pass}) for steps around "
          f"{current}; {PERIOD - time.time() % PERIOD:.0f}s left in this step",
          file=sys.stderr)


def cmd_totp(a):
    print(totp_at_step(b32_secret(a.secret), step_now()))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("start")
    s.add_argument("--bin", required=True)
    s.add_argument("--stdout", required=True)
    s.add_argument("--stderr", required=True)
    s.add_argument("--timeout", type=float, default=60)
    s.add_argument("--pidfile")
    s.set_defaults(fn=cmd_start)

    for name, fn in (("seed-basic", cmd_seed_basic), ("seed-otp", cmd_seed_otp)):
        s = sub.add_parser(name)
        s.add_argument("--url", required=True)
        s.add_argument("--admin-email", default="admin@localhost")
        s.add_argument("--admin-password", required=True)
        s.add_argument("--users", type=int, required=True)
        s.add_argument("--prefix", default="user")
        s.add_argument("--workers", type=int, default=8)
        s.add_argument("--out", required=True)
        if name == "seed-basic":
            s.add_argument("--sessions", type=int, default=0)
        else:
            s.add_argument("--challenges", type=int, default=3)
            s.add_argument("--spread-addresses", action="store_true",
                           help="send X-Forwarded-For 10.x.y.z, one address per user")
        s.set_defaults(fn=fn)

    s = sub.add_parser("otp-bodies")
    s.add_argument("--state", required=True)
    s.add_argument("--out", required=True, help="prefix; writes OUT.0 .. OUT.<threads-1>")
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--passes", type=int, default=3, choices=(1, 2, 3))
    s.add_argument("--min-valid-secs", type=float, default=13)
    s.add_argument("--max-challenge-age", type=float, default=270)
    s.set_defaults(fn=cmd_otp_bodies)

    s = sub.add_parser("totp")
    s.add_argument("secret")
    s.set_defaults(fn=cmd_totp)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
