// The one "confirm it is you" step in front of every sensitive profile
// action. What each action must prove is data, not code: when the API
// asks for more (the current password to start enrollment, an
// authentication code besides the password when 2FA is on), change the
// table below and every screen follows.

import { h, field, form } from "./ui.js";

/**
 * password: the body field carrying the current password, or null.
 * code: whether, with 2FA on, the body also carries `code` (or
 * `recovery_code`). Only fields today's endpoints accept are listed: some
 * bodies reject unknown fields.
 */
export const PROOFS = {
  startEnrollment: { password: "password", code: false },
  disableTwoFactor: { password: "password", code: true },
  regenerateRecoveryCodes: { password: "password", code: true },
  changePassword: { password: "current_password", code: true },
  endOtherSession: { password: "password", code: false },
  addAuthenticator: { password: "password", code: true },
  removeAuthenticator: { password: "password", code: true },
};

/**
 * Builds the confirmation form for `action`, or, when the action needs no
 * proof, runs it at once. `fields` are the action's own inputs (a new
 * password); `run(body)` performs it with the proof merged into the body.
 */
export function confirmStep(action, { title, submit, twoFactorOn, fields = [], run, onCancel, danger }) {
  const proof = PROOFS[action];
  const asksCode = proof.code && twoFactorOn;
  if (!proof.password && !asksCode && fields.length === 0) {
    return { immediate: () => run({}) };
  }
  const inputs = [];
  if (proof.password) {
    inputs.push(field(proof.password === "current_password" && fields.length ? "Current password" : "Password",
      { name: proof.password, type: "password", autocomplete: "current-password", required: true }));
  }
  let codeField, recoveryField, toggle;
  if (asksCode) {
    codeField = field("Authentication code", { name: "code", inputMode: "numeric", autocomplete: "one-time-code", pattern: "[0-9 ]*" });
    recoveryField = field("Recovery code", { name: "recovery_code", autocomplete: "off" });
    recoveryField.hidden = true;
    recoveryField.querySelector("input").disabled = true;
    toggle = h("button", { type: "button", class: "link", onclick: () => {
      const useRecovery = recoveryField.hidden;
      recoveryField.hidden = !useRecovery;
      recoveryField.querySelector("input").disabled = !useRecovery;
      codeField.hidden = useRecovery;
      codeField.querySelector("input").disabled = useRecovery;
      toggle.textContent = useRecovery ? "Use an authentication code" : "Use a recovery code";
      (useRecovery ? recoveryField : codeField).querySelector("input").focus();
    } }, "Use a recovery code");
    inputs.push(codeField, recoveryField, toggle);
  }
  const el = form({
    title, submit, fields: [...inputs, ...fields],
    extra: onCancel ? [h("button", { type: "button", class: "secondary", onclick: onCancel }, "Cancel")] : [],
    onSubmit: async (v) => {
      const body = {};
      for (const f of fields) {
        const input = f.querySelector("input,select");
        if (input?.name) body[input.name] = v[input.name];
      }
      if (proof.password) body[proof.password] = v[proof.password];
      if (asksCode) {
        // Left empty, the server says what it needs (or that 2FA is
        // enforced and cannot be turned off at all).
        if (!recoveryField.hidden) { if (v.recovery_code) body.recovery_code = v.recovery_code; }
        else if (v.code) body.code = v.code.replace(/\s/g, "");
      }
      await run(body);
    },
  });
  if (danger) el.querySelector("button[type=submit]").classList.add("danger");
  return { form: el };
}
