// Setting up an authenticator app, shared by the forced enrollment at
// sign-in and the one started from the profile: QR code, secret, link,
// then a code to prove the app works, then the recovery codes, once.

import { h, field, form, download } from "./ui.js";

/**
 * `ticket` is the API's enrollment response; `confirm(code)` sends the
 * code and resolves to the recovery codes (none for a further
 * authenticator: 2FA was already on, and `onDone` follows at once).
 */
export function enrollmentPanel(ticket, { confirm, onDone }) {
  const wrap = h("div", {});
  const steps = h("section", { class: "card", "aria-labelledby": "enroll-scan" },
    h("h2", { id: "enroll-scan" }, "1. Scan the QR code"),
    h("p", {}, "Scan it with Google Authenticator, Microsoft Authenticator or any TOTP app."),
    h("p", { class: "qr" }, h("img", { src: ticket.qr_png, alt: "QR code", width: 220, height: 220 })),
    h("p", {}, "Or type this secret into the app: ", h("code", { class: "secret", dataset: { secret: "" } }, ticket.secret)),
    h("p", {}, h("a", { href: ticket.otpauth_uri }, "Open in an authenticator app on this device")));
  const verify = form({
    title: "2. Enter the code the app shows",
    submit: "Verify",
    fields: [field("Authentication code", { name: "code", inputMode: "numeric", autocomplete: "one-time-code", required: true })],
    onSubmit: async ({ code }) => {
      const codes = await confirm(code);
      if (!codes.length) { await onDone(); return; }
      wrap.replaceChildren(recoveryCodesPanel(codes, {
        heading: "Two-factor authentication is on",
        onDone,
      }));
      wrap.querySelector("h2").focus();
    },
  });
  wrap.append(steps, verify);
  return wrap;
}

/** The recovery codes, shown once, with copy and download. */
export function recoveryCodesPanel(codes, { heading, onDone }) {
  const copied = h("span", { role: "status", class: "success" });
  const text = codes.join("\n") + "\n";
  return h("section", { class: "card", "aria-labelledby": "codes-heading" },
    h("h2", { id: "codes-heading", tabIndex: -1, class: "success" }, heading),
    h("p", {}, "Save these recovery codes somewhere safe. Each one works once instead of an authentication code, " +
      "if you lose your phone. They are shown only now."),
    h("ol", { class: "codes", "aria-label": "Recovery codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: async () => {
        try { await navigator.clipboard.writeText(text); copied.textContent = "Copied."; }
        catch { copied.textContent = "Copy failed: select the codes and copy them."; }
      } }, "Copy"),
      h("button", { type: "button", class: "secondary", onclick: () => download("authgate-recovery-codes.txt", text) }, "Download"),
      onDone && h("button", { type: "button", onclick: onDone }, "Continue"),
      copied));
}
