// Account recovery without a session: "Forgot password?" and the page the
// reset and invitation emails link to (`#/reset-password?token=pr_…`).

import { request } from "./api.js";
import { h, field, form, render } from "./ui.js";

export function forgotPasswordScreen() {
  const done = h("div", { role: "status" });
  const f = form({
    label: "Reset your password",
    submit: "Send reset link",
    fields: [
      h("p", {}, "Enter the email address of your account. If it has one, a link to choose a new password is sent to it."),
      field("Email", { name: "email", type: "email", autocomplete: "username", required: true }),
    ],
    extra: [h("a", { href: "#/profile" }, "Back to sign in")],
    onSubmit: async ({ email }) => {
      await request("POST", "/v1/auth/password-reset", { body: { email: email.trim() } });
      // The API answers alike whether or not the address has an account,
      // so the console says the same neutral thing in both cases.
      f.hidden = true;
      done.replaceChildren(h("section", { class: "card narrow" },
        h("p", { class: "success", tabIndex: -1 }, "Check your email."),
        h("p", {}, `If ${email.trim()} belongs to an account, a link to choose a new password is on its way. It works once, for a limited time.`),
        h("p", {}, h("a", { href: "#/profile" }, "Back to sign in"))));
      done.querySelector("p").focus();
    },
  });
  render("Forgot password", f, done);
  f.querySelector("input").focus();
}

/**
 * Sets the password with the mail's token. The token is taken out of the
 * address bar at once (kept in memory only) so it does not stay in the
 * browser's history on a shared computer. `signIn(notice)` shows the
 * sign-in screen afterwards.
 */
export function resetPasswordScreen(params, { signIn }) {
  const token = params.get("token") || "";
  history.replaceState(null, "", "#/reset-password");
  if (!token) {
    render("Choose your password",
      h("p", { class: "error", role: "alert" }, "This page needs the link from your email. Open the link again, or ask for a new one."),
      h("p", {}, h("a", { href: "#/forgot-password" }, "Forgot password?")), h("p", {}, h("a", { href: "#/profile" }, "Sign in")));
    return;
  }

  const codeField = field("Authentication code", { name: "code", inputMode: "numeric", autocomplete: "one-time-code",
    hint: "The 6-digit code from your authenticator app." });
  const recoveryField = field("Recovery code", { name: "recovery_code", autocomplete: "off" });
  const secondFactor = h("div", { hidden: true },
    h("p", { role: "status" }, "Your account has two-factor authentication: enter a code from your authenticator app too."));
  const toggle = h("button", { type: "button", class: "link", onclick: () => useRecovery(recoveryField.hidden) }, "Use a recovery code");
  const useRecovery = (on) => {
    recoveryField.hidden = !on;
    recoveryField.querySelector("input").disabled = !on;
    codeField.hidden = on;
    codeField.querySelector("input").disabled = on;
    toggle.textContent = on ? "Use an authentication code" : "Use a recovery code";
    (on ? recoveryField : codeField).querySelector("input").focus();
  };
  secondFactor.append(codeField, recoveryField, toggle);
  recoveryField.hidden = true;
  for (const el of [codeField, recoveryField]) el.querySelector("input").disabled = true;

  const f = form({
    label: "Choose your password",
    submit: "Set password",
    fields: [
      field("New password", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minLength: 8,
        hint: "At least 8 characters; a long sentence is easy to remember and hard to guess." }),
      secondFactor,
      h("p", { class: "error", dataset: { errorFor: "token" } }),
    ],
    onSubmit: async (v) => {
      const body = { token, new_password: v.new_password };
      if (!secondFactor.hidden) {
        // Left empty, the server says again that it needs one.
        const given = recoveryField.hidden ? ["code", v.code.replace(/\s/g, "")] : ["recovery_code", v.recovery_code.trim()];
        if (given[1]) body[given[0]] = given[1];
      }
      try {
        await request("POST", "/v1/auth/password-reset/confirm", { body });
      } catch (e) {
        if (e.code === "second_factor_required" && secondFactor.hidden) {
          // The token is still good: ask for the second factor and let the
          // person submit again with the same password.
          secondFactor.hidden = false;
          codeField.querySelector("input").disabled = false;
          codeField.querySelector("input").focus();
          return;
        }
        if (e.code === "invalid_password_token") {
          e.detail = "This link was already used, replaced by a newer one, or has expired. Ask for a new one with \u201cForgot password?\u201d";
        }
        throw e;
      }
      signIn("Your password is set. Sign in with it.");
    },
  });
  render("Choose your password", f);
  f.querySelector("input").focus();
}
