// Profile: the signed-in person's 2FA, password, sessions and history.

import { api } from "./session.js";
import { h, field, form, render, table, when, messageOf } from "./ui.js";
import { confirmStep } from "./confirm.js";
import { enrollmentPanel, recoveryCodesPanel } from "./enroll.js";

/** The words the product uses for a 2FA state. */
export function twoFactorStatus(tf) {
  if (tf.status === "enabled") return "Enabled";
  if (tf.enforced && tf.enforced_by === "admin") return "Required by your administrator";
  if (tf.enforced) return "Required by your organization";
  if (tf.status === "pending") return "Being set up";
  return "Off";
}

export async function profileScreen() {
  const me = await api("GET", "/v1/me");
  const tf = me.two_factor;
  const twoFactorOn = tf.status === "enabled";
  const area = h("div", { id: "two-factor-actions" });
  const show = (...nodes) => { area.replaceChildren(...nodes); area.querySelector("input, h2, button")?.focus(); };
  const reload = () => profileScreen();

  const enable = () => {
    const step = confirmStep("startEnrollment", {
      title: "Enable two-factor authentication", submit: "Continue", twoFactorOn, onCancel: () => area.replaceChildren(),
      run: async (proof) => {
        const ticket = await api("POST", "/v1/me/two-factor/enrollment", Object.keys(proof).length ? proof : undefined);
        show(enrollmentPanel(ticket, {
          confirm: async (code) => (await api("POST", "/v1/me/two-factor/enrollment/confirm", { code })).recovery_codes || [],
          onDone: reload,
        }));
      },
    });
    if (step.immediate) step.immediate().catch((e) => show(h("p", { class: "error", role: "alert" }, messageOf(e))));
    else show(step.form);
  };
  const disable = () => show(confirmStep("disableTwoFactor", {
    title: "Disable two-factor authentication", submit: "Disable two-factor authentication", danger: true, twoFactorOn,
    onCancel: () => area.replaceChildren(),
    run: async (body) => { await api("POST", "/v1/me/two-factor/disable", body); await reload(); },
  }).form);
  const regenerate = () => show(confirmStep("regenerateRecoveryCodes", {
    title: "New recovery codes", submit: "Generate new recovery codes", twoFactorOn, onCancel: () => area.replaceChildren(),
    run: async (body) => {
      const res = await api("POST", "/v1/me/two-factor/recovery-codes", body);
      show(recoveryCodesPanel(res.recovery_codes, { heading: "New recovery codes", onDone: reload }));
    },
  }).form);

  const status = twoFactorStatus(tf);
  const twoFactor = h("section", { class: "card", "aria-labelledby": "tf-heading" },
    h("h2", { id: "tf-heading" }, "Two-factor authentication"),
    h("p", {}, "Status: ", h("strong", { id: "two-factor-status" }, status),
      twoFactorOn && tf.enforced ? ` (required by your ${tf.enforced_by === "admin" ? "administrator" : "organization"})` : ""),
    tf.enrollment_deadline ? h("p", {}, `Set it up before ${when(tf.enrollment_deadline)}.`) : null,
    twoFactorOn ? h("p", {}, `Recovery codes remaining: `, h("strong", { id: "recovery-remaining" }, String(tf.recovery_codes_remaining ?? 0))) : null,
    h("div", { class: "actions" },
      twoFactorOn
        ? [h("button", { type: "button", class: "danger", onclick: disable }, "Disable two-factor authentication"),
           h("button", { type: "button", class: "secondary", onclick: regenerate }, "Regenerate recovery codes")]
        : h("button", { type: "button", onclick: enable }, "Enable two-factor authentication")),
    area);

  const passwordDone = h("p", { role: "status", class: "success" });
  const password = confirmStep("changePassword", {
    title: "Change password", submit: "Change password", twoFactorOn,
    fields: [field("New password", { name: "new_password", type: "password", autocomplete: "new-password", minLength: 8, required: true, hint: "At least 8 characters." })],
    run: async (body) => {
      await api("POST", "/v1/me/password", body);
      password.form.reset();
      passwordDone.textContent = "Password changed. Your other sessions have ended.";
      sessions.replaceWith(sessions = await sessionsCard());
    },
  }).form;
  password.classList.remove("narrow");
  password.append(passwordDone);

  let sessions = await sessionsCard();
  render("Profile",
    h("p", {}, `${me.name} · ${me.email} · ${me.organization.name} (${me.role})`),
    twoFactor, twoFactorOn ? await authenticatorsCard(tf, reload) : null,
    password, sessions, await devicesCard(), await historyCard());
}

/**
 * Authenticators: a code from any of them signs in. Adding one proves an
 * existing one (or a recovery code); so does removing one. Moving to a new
 * phone is adding it, then removing the old one.
 */
async function authenticatorsCard(tf, reload) {
  const list = await api("GET", "/v1/me/two-factor/authenticators");
  const area = h("div", { id: "authenticator-actions" });
  const show = (...nodes) => { area.replaceChildren(...nodes); area.querySelector("input, h2, button")?.focus(); };
  const cancel = () => area.replaceChildren();
  const add = () => show(confirmStep("addAuthenticator", {
    title: "Add an authenticator", submit: "Continue", twoFactorOn: true, onCancel: cancel,
    fields: [field("Name", { name: "name", required: true, maxLength: 64, hint: "For example \u201cWork phone\u201d or \u201cPassword manager\u201d." })],
    run: async (body) => {
      const ticket = await api("POST", "/v1/me/two-factor/authenticators", body);
      show(enrollmentPanel(ticket, {
        confirm: async (code) => (await api("POST", `/v1/me/two-factor/authenticators/${encodeURIComponent(ticket.id)}/confirm`, { code })).recovery_codes || [],
        onDone: reload,
      }));
    },
  }).form);
  const rename = (a) => show(form({
    title: `Rename \u201c${a.name}\u201d`, submit: "Rename",
    fields: [field("New name", { name: "name", required: true, maxLength: 64, value: a.name })],
    extra: [h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel")],
    onSubmit: async ({ name }) => {
      await api("PATCH", `/v1/me/two-factor/authenticators/${encodeURIComponent(a.id)}`, { name });
      await reload();
    },
  }));
  const remove = (a) => show(confirmStep("removeAuthenticator", {
    title: `Remove \u201c${a.name}\u201d`, submit: "Remove it", danger: true, twoFactorOn: true, onCancel: cancel,
    run: async (body) => {
      await api("DELETE", `/v1/me/two-factor/authenticators/${encodeURIComponent(a.id)}`, body);
      await reload();
    },
  }).form);
  const last = list.length === 1;
  const rows = list.map((a) => [
    a.name, when(a.created_at), a.last_used_at ? when(a.last_used_at) : "never",
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", "aria-label": `Rename ${a.name}`, onclick: () => rename(a) }, "Rename"),
      // The last one cannot go while 2FA is required; otherwise removing it turns 2FA off.
      !(last && tf.enforced) && h("button", { type: "button", class: "secondary", "aria-label": `Remove ${a.name}`, onclick: () => remove(a) }, "Remove")),
  ]);
  return h("section", { class: "card", "aria-labelledby": "authenticators-heading" },
    h("h2", { id: "authenticators-heading" }, "Authenticators"),
    h("p", { class: "muted" }, "A code from any of these signs you in. Add a new phone before removing the old one."),
    table("Your authenticators", ["Name", "Added", "Last used", "Actions"], rows),
    list.length < 5
      ? h("div", { class: "actions" }, h("button", { type: "button", onclick: add }, "Add an authenticator"))
      : h("p", { class: "muted" }, "You have the most authenticators allowed (5): remove one to add another."),
    area);
}

/** Remembered devices: each skips the code at sign-in until forgotten. */
async function devicesCard() {
  const { items } = await api("GET", "/v1/me/devices");
  const card = h("section", { class: "card", "aria-labelledby": "devices-heading" }, h("h2", { id: "devices-heading" }, "Remembered devices"));
  if (!items.length) {
    card.append(h("p", { class: "muted" }, "No device skips the code. Tick \u201cRemember this device\u201d at sign-in to add one."));
    return card;
  }
  const rows = items.map((d) => [
    d.client, d.ip || "—", d.user_agent || "—", when(d.created_at), d.last_used_at ? when(d.last_used_at) : "never", when(d.expires_at),
    h("button", { type: "button", class: "secondary", "aria-label": `Forget device remembered ${when(d.created_at)} from ${d.ip || "unknown address"}`,
      onclick: async () => {
        await api("DELETE", `/v1/me/devices/${encodeURIComponent(d.id)}`);
        card.replaceWith(await devicesCard());
      } }, "Forget"),
  ]);
  card.append(table("Devices that skip the code", ["Client", "Address", "Browser", "Remembered", "Last used", "Until", "Action"], rows));
  return card;
}

async function sessionsCard() {
  const { items } = await api("GET", "/v1/me/sessions");
  const card = h("section", { class: "card", "aria-labelledby": "sessions-heading" }, h("h2", { id: "sessions-heading" }, "Sessions"));
  const rows = items.map((s) => [
    s.current ? "This device" : s.client, s.ip || "—", s.user_agent || "—", when(s.created_at), when(s.last_used_at),
    s.current ? h("span", { class: "muted" }, "current")
      : h("button", { type: "button", class: "secondary", "aria-label": `Revoke session from ${s.ip || "unknown address"} started ${when(s.created_at)}`,
          onclick: () => {
            // Ending another session is a sensitive change: the password again.
            const step = confirmStep("endOtherSession", {
              title: "Revoke this session", submit: "Revoke session", danger: true, twoFactorOn: false,
              onCancel: () => confirmArea.replaceChildren(),
              run: async (body) => {
                await api("DELETE", `/v1/me/sessions/${encodeURIComponent(s.id)}`, body);
                card.replaceWith(await sessionsCard());
              },
            });
            confirmArea.replaceChildren(step.form);
            confirmArea.querySelector("input")?.focus();
          } }, "Revoke"),
  ]);
  const confirmArea = h("div", { id: "session-confirm" });
  card.append(table("Where you are signed in", ["Client", "Address", "Browser", "Started", "Last used", "Action"], rows), confirmArea);
  return card;
}

const OUTCOMES = {
  success: "Signed in", otp_required: "Password accepted, code asked", enrollment_required: "Password accepted, setup asked",
  wrong_password: "Wrong password", wrong_code: "Wrong code", replayed_code: "Code used twice", challenge_expired: "Took too long",
  too_many_attempts: "Too many attempts", account_disabled: "Account disabled", throttled: "Throttled", locked: "Locked",
  recovery_code: "Signed in with a recovery code", remembered_device: "Signed in on a remembered device", wrong_recovery_code: "Wrong recovery code", unknown_account: "Unknown account",
};
export const outcome = (o) => OUTCOMES[o] || o;

export async function historyCard(path = "/v1/me/login-history", heading = "Login history") {
  const card = h("section", { class: "card", "aria-labelledby": "history-heading" }, h("h2", { id: "history-heading" }, heading));
  const body = h("div", {});
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older");
  let before = null;
  const rows = [];
  const load = async () => {
    const page = await api("GET", `${path}?limit=20${before ? `&before=${before}` : ""}`);
    rows.push(...page.items.map((e) => [when(e.at), e.client || "—", e.ip || "—", h("span", { dataset: { outcome: e.outcome } }, outcome(e.outcome)),
      e.authenticator ? e.authenticator.name : "—"]));
    body.replaceChildren(table("Sign-in attempts, newest first", ["Time", "Client", "Address", "Outcome", "Authenticator"], rows));
    before = page.next_before;
    more.hidden = !before;
  };
  more.addEventListener("click", load);
  await load();
  card.append(body, more);
  return card;
}
