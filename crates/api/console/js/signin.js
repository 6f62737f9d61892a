// Sign in: password, then what the server asks for next (a code, or
// setting up 2FA when it is required), then tokens.

import { request } from "./api.js";
import { signedIn } from "./session.js";
import { h, field, form, render } from "./ui.js";

const CLIENT = "web";

// The device token of "Remember this device". The console keeps it in
// memory only, like its other tokens (nothing in localStorage), so it
// skips the code for sign-ins in this tab until the page is reloaded. A
// web app with a backend of its own would keep it in an HttpOnly cookie.
let deviceToken = null;

/** `done()` is called once tokens are held (after any recovery codes). */
export function signInScreen({ done, notice }) {
  const f = form({
    label: "Sign in",
    submit: "Sign in",
    fields: [
      field("Email", { name: "email", type: "email", autocomplete: "username", required: true }),
      field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
    ],
    extra: [h("a", { href: "#/forgot-password" }, "Forgot password?")],
    onSubmit: async ({ email, password }) => {
      const body = { email, password, client: CLIENT };
      if (deviceToken) body.device_token = deviceToken;
      const res = await request("POST", "/v1/auth/login", { body });
      await next(res, done);
    },
  });
  render("Sign in", notice ? h("p", { class: "banner", role: "status" }, notice) : null, f);
  f.querySelector("input").focus();
}

async function next(res, done) {
  if (res.status === "authenticated") {
    if (res.device_token) deviceToken = res.device_token;
    signedIn(res);
    done();
  } else if (res.status === "otp_required") {
    codeStep(res.challenge_token, done);
  } else if (res.status === "enrollment_required") {
    await enrollmentStep(res.challenge_token, done);
  }
}

function codeStep(challenge, done) {
  const codeField = field("Authentication code", { name: "code", inputMode: "numeric", autocomplete: "one-time-code", required: true,
    hint: "The 6-digit code from your authenticator app." });
  const recoveryField = field("Recovery code", { name: "recovery_code", autocomplete: "off", hint: "One of the codes you saved, like abcd-efgh-ijkl-mnop." });
  recoveryField.hidden = true;
  recoveryField.querySelector("input").disabled = true;
  const toggle = h("button", { type: "button", class: "link", onclick: () => {
    const recovery = recoveryField.hidden;
    recoveryField.hidden = !recovery;
    recoveryField.querySelector("input").disabled = !recovery;
    codeField.hidden = recovery;
    codeField.querySelector("input").disabled = recovery;
    toggle.textContent = recovery ? "Use an authentication code" : "Use a recovery code";
    (recovery ? recoveryField : codeField).querySelector("input").focus();
  } }, "Use a recovery code");
  const remember = field("Remember this device", { name: "remember_device", type: "checkbox",
    hint: "Skip the code on this device next time (the password is still asked)." });
  const f = form({
    label: "Second step",
    submit: "Verify",
    fields: [codeField, recoveryField, remember],
    extra: [toggle],
    onSubmit: async (v) => {
      const body = { challenge_token: challenge };
      if (recoveryField.hidden) body.code = v.code; else body.recovery_code = v.recovery_code;
      if (v.remember_device) body.remember_device = true;
      await next(await request("POST", "/v1/auth/otp", { body }), done);
    },
  });
  render("Two-factor authentication", h("p", {}, "Enter the code from your authenticator app."), f);
  f.querySelector("input").focus();
}

async function enrollmentStep(challenge, done) {
  const { enrollmentPanel } = await import("./enroll.js");
  const ticket = await request("POST", "/v1/auth/enrollment", { body: { challenge_token: challenge } });
  let tokens;
  const panel = enrollmentPanel(ticket, {
    confirm: async (code) => {
      tokens = await request("POST", "/v1/auth/enrollment/confirm", { body: { challenge_token: challenge, code } });
      signedIn(tokens);
      return tokens.recovery_codes || [];
    },
    onDone: () => done(),
  });
  render("Set up two-factor authentication",
    h("p", {}, "Your administrator requires two-factor authentication. Set it up to finish signing in."), panel);
}
