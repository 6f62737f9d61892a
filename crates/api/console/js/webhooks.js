// Organization > Webhooks: endpoints that receive security events
// (Standard Webhooks), their signing secret (shown once), test events and
// the delivery log.

import { api } from "./session.js";
import { h, field, form, render, table, when, messageOf, checkboxes, checked, shownOnce, confirmButton } from "./ui.js";

// Subscriptions name webhook types (README "Notifications and webhooks");
// the API has no endpoint listing them, so the console carries them, in
// auth-core's order (tests/api/console.rs keeps the two in step).
const EVENTS = [
  "organization.created", "organization.policy_changed", "user.created", "user.updated",
  "user.disabled", "user.enabled", "password.changed", "account.unlocked",
  "two_factor.enrollment_started", "two_factor.enabled", "two_factor.disabled",
  "authenticator.added", "authenticator.removed", "authenticator.renamed",
  "two_factor.required", "two_factor.requirement_lifted", "two_factor.reset", "account.locked",
  "recovery_code.used", "recovery_codes.regenerated", "session.token_reused", "login.new_device",
  "webhook.test", "user.removed", "user.invited", "user.invitation_accepted",
  "password.reset_requested", "password.reset", "api_key.created", "api_key.revoked",
  "step_up.failed",
];

const ALL = "*";

function state(w) {
  if (!w.enabled) return h("span", { class: "badge forced" }, "Off");
  if (w.failing_since) return h("span", { class: "badge forced" }, `Failing since ${when(w.failing_since)}`);
  return h("span", { class: "badge on" }, "On");
}

const events = (w) => (w.events.includes(ALL) ? "All events" : w.events.join(", "));

export async function webhooksScreen() {
  const { items } = await api("GET", "/v1/organization/webhooks");
  const notice = h("div", { id: "webhook-notice" });

  const add = form({
    title: "Add webhook", submit: "Add webhook", className: "card",
    fields: [
      field("URL", { name: "url", type: "url", autocomplete: "off", required: true, placeholder: "https://",
        hint: "Where Authgate POSTs the events: an HTTPS address your receiver answers on." }),
      field("All events", { name: "all_events", type: "checkbox" }),
      checkboxes("Events", "events", EVENTS.map((e) => [e, e]), { hint: "Or only these:" }),
    ],
    onSubmit: async (v) => {
      const list = v.all_events ? [ALL] : checked(v, "events");
      const created = await api("POST", "/v1/organization/webhooks", { url: v.url.trim(), events: list });
      await webhooksScreen();
      document.getElementById("webhook-notice").replaceChildren(h("section", { class: "card", "aria-labelledby": "wh-new" },
        h("h2", { id: "wh-new", class: "success", tabIndex: -1 }, `Added ${created.url}`),
        shownOnce("Signing secret", created.secret,
          "Your receiver checks the webhook-signature header with it (Standard Webhooks)."),
        h("p", {}, h("a", { href: `#/organization/webhooks/${created.id}` }, "Send a test event and see deliveries"))));
      document.getElementById("wh-new").focus();
    },
  });
  const all = add.querySelector('input[name="all_events"]');
  const group = add.querySelector("fieldset");
  all.addEventListener("change", () => group.querySelectorAll("input").forEach((el) => { el.disabled = all.checked; }));

  const rows = items.map((w) => [
    h("a", { href: `#/organization/webhooks/${w.id}` }, w.url), events(w), state(w), when(w.created_at)]);
  render("Webhooks", notice,
    h("section", { class: "card", "aria-labelledby": "wh-heading" }, h("h2", { id: "wh-heading" }, "Endpoints"),
      items.length ? table(items.length === 1 ? "1 endpoint" : `${items.length} endpoints`, ["URL", "Events", "State", "Added"], rows)
        : h("p", { class: "muted" }, "No webhooks yet.")),
    add);
}

export async function webhookScreen(id) {
  const path = `/v1/organization/webhooks/${encodeURIComponent(id)}`;
  const [w, deliveries] = await Promise.all([api("GET", path), api("GET", `${path}/deliveries`)]);
  const said = h("div", { id: "webhook-said", role: "status" });
  const reload = () => webhookScreen(id);
  const act = (fn) => async (ev) => {
    const btn = ev?.currentTarget ?? ev;
    btn.disabled = true;
    said.replaceChildren();
    try { await fn(); } catch (e) { said.replaceChildren(h("p", { class: "error", role: "alert" }, messageOf(e))); }
    finally { btn.disabled = false; }
  };
  const button = (text, onclick) => h("button", { type: "button", class: "secondary", "aria-describedby": "webhook-said", onclick }, text);

  const actions = h("div", { class: "actions" },
    button("Send test event", act(async () => {
      const queued = await api("POST", `${path}/test`);
      await reload();
      document.getElementById("webhook-said").replaceChildren(h("p", { class: "success" },
        `A ${queued.type} event is queued (webhook-id ${queued.event_id}); refresh the deliveries to see it arrive.`));
    })),
    button("Rotate secret", act(async () => {
      const rotated = await api("POST", `${path}/rotate-secret`);
      said.replaceChildren(shownOnce("New signing secret", rotated.secret,
        `The previous secret keeps signing too until ${when(rotated.previous_secret_expires_at)}, so receivers can switch over.`));
    })),
    button(w.enabled ? "Turn off" : "Turn on", act(async () => {
      await api("PATCH", path, { enabled: !w.enabled });
      await reload();
    })),
    confirmButton("Delete webhook", `Delete the webhook to ${w.url}? Its pending deliveries are dropped.`, {
      confirm: "Yes, delete", describedBy: "webhook-said",
      run: act(async () => {
        await api("DELETE", path);
        location.hash = "#/organization/webhooks";
      }),
    }));

  const rows = deliveries.items.map((d) => [
    when(d.created_at), h("code", {}, d.type), h("span", { dataset: { state: d.state } }, d.state),
    d.status_code ? String(d.status_code) : (d.error || "—"), String(d.attempts),
    when(d.delivered_at || d.last_attempt_at), h("code", {}, d.event_id)]);
  render(`Webhook to ${w.url}`,
    h("p", {}, h("a", { href: "#/organization/webhooks" }, "All webhooks")),
    h("section", { class: "card", "aria-labelledby": "wh-info" },
      h("h2", { id: "wh-info" }, "Endpoint"),
      h("p", {}, "Events: ", events(w)), h("p", {}, "State: ", state(w)), actions, said),
    h("section", { class: "card", "aria-labelledby": "wh-deliveries" },
      h("h2", { id: "wh-deliveries" }, "Deliveries"),
      deliveries.items.length
        ? table("Recent deliveries, newest first", ["Queued", "Event", "State", "Answer", "Attempts", "Last attempt", "webhook-id"], rows)
        : h("p", { class: "muted" }, "No deliveries yet."),
      h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: reload }, "Refresh deliveries"))));
}
