// Organization (admins): users, the 2FA policy, and the audit log.

import { api } from "./session.js";
import { h, field, select, form, render, table, when, messageOf, confirmButton } from "./ui.js";
import { historyCard } from "./profile.js";

function userTwoFactor(tf, authenticators = 0) {
  if (tf.status === "enabled") {
    return [h("span", { class: "badge on" }, "Enabled"), " ",
      h("span", { class: "muted", dataset: { authenticators: String(authenticators) } },
        authenticators === 1 ? "1 authenticator" : `${authenticators} authenticators`)];
  }
  if (tf.enforced) return h("span", { class: "badge forced" }, tf.enforced_by === "admin" ? "Required, not set up" : "Required by policy, not set up");
  if (tf.status === "pending") return h("span", { class: "badge" }, "Being set up");
  return h("span", { class: "badge" }, "Off");
}

async function allUsers() {
  const users = [];
  for (let offset = 0; offset !== null && offset !== undefined;) {
    const page = await api("GET", `/v1/users?limit=100&offset=${offset}`);
    users.push(...page.items);
    offset = page.next_offset;
  }
  return users;
}

export async function organizationScreen() {
  const [users, org] = await Promise.all([allUsers(), api("GET", "/v1/organization")]);
  const refresh = () => organizationScreen();

  const addUser = form({
    title: "Add user", submit: "Add user", className: "card",
    fields: [
      h("div", { class: "row" },
        field("Email", { name: "email", type: "email", autocomplete: "off", required: true }),
        field("Name", { name: "name", autocomplete: "off", required: true }),
        select("Role", "role", [["agent", "Agent"], ["admin", "Admin"]], "agent")),
      field("Password", { name: "password", type: "password", autocomplete: "new-password", hint: "Leave empty: the user gets an invitation email and chooses their own password." }),
      field("Require two-factor authentication", { name: "require_two_factor", type: "checkbox" }),
    ],
    onSubmit: async (v) => {
      const body = { email: v.email, name: v.name, role: v.role, require_two_factor: v.require_two_factor };
      if (v.password) body.password = v.password;
      const res = await api("POST", "/v1/users", body);
      await refresh();
      const n = document.getElementById("org-notice");
      n.replaceChildren(h("div", {}, h("p", { class: "success" }, `Added ${res.user.email}.`),
        res.invitation_sent && h("p", {}, `An invitation email is on its way to ${res.user.email}.`),
        res.generated_password && h("p", {}, "Their password (shown once): ", h("code", { id: "generated-password" }, res.generated_password))));
    },
  });

  const rows = users.map((u) => {
    const emailId = `user-${u.id}`;
    // Each row's outcome (an error such as last_admin or
    // cannot_modify_self, or "email sent") is shown beside its controls.
    const said = h("p", { id: `said-${u.id}`, class: "said", role: "status" });
    const describedBy = `${emailId} said-${u.id}`;
    const tell = (text, ok) => { said.className = ok ? "said success" : "said error"; said.textContent = text; };
    const act = (fn, { reload = true, done } = {}) => async (ev) => {
      const btn = ev?.currentTarget ?? ev;
      btn.disabled = true;
      tell("", true);
      try {
        await fn();
        if (reload) await refresh(); else btn.disabled = false;
        if (done) {
          if (reload) document.getElementById("org-notice")?.replaceChildren(h("p", { class: "success" }, done));
          else tell(done, true);
        }
      } catch (e) { btn.disabled = false; tell(messageOf(e), false); }
    };
    const button = (text, onclick) => h("button", { type: "button", class: "secondary", "aria-describedby": describedBy, onclick }, text);
    const requireBox = h("input", { type: "checkbox", id: `require-${u.id}`, checked: u.two_factor.enforced && u.two_factor.enforced_by === "admin",
      onchange: act(() => api("PATCH", `/v1/users/${u.id}`, { require_two_factor: requireBox.checked })) });
    requireBox.setAttribute("aria-describedby", describedBy);
    return [
      h("span", { id: emailId }, u.email),
      u.name, u.role, userTwoFactor(u.two_factor, u.authenticators), when(u.last_login_at),
      h("div", { class: "actions", dataset: { user: u.email } },
        h("span", { class: "field check" }, requireBox, h("label", { htmlFor: requireBox.id }, "Require two-factor authentication")),
        u.two_factor.status !== "disabled" && button("Reset 2FA", act(() => api("POST", `/v1/users/${u.id}/two-factor/reset`))),
        u.locked && button("Unlock", act(() => api("POST", `/v1/users/${u.id}/unlock`))),
        // The API does not say whether an invitation is still open; one
        // who never signed in may be waiting for theirs, and the server
        // answers invitation_accepted (shown here) if not.
        !u.last_login_at && button("Resend invitation", act(() => api("POST", `/v1/users/${u.id}/invitation`),
          { reload: false, done: `A new invitation is on its way to ${u.email}; the previous link no longer works.` })),
        button("Send password reset", act(() => api("POST", `/v1/users/${u.id}/password-reset`),
          { reload: false, done: `A password reset email is on its way to ${u.email}.` })),
        confirmButton("Remove user", `Remove ${u.email}? Their sessions end and their account is anonymised.`, {
          confirm: "Yes, remove", describedBy,
          run: act(() => api("DELETE", `/v1/users/${u.id}`), { done: `Removed ${u.email}.` }),
        }),
        h("a", { href: `#/organization/users/${u.id}`, "aria-describedby": emailId }, "Login history"),
        said),
    ];
  });
  const usersCard = h("section", { class: "card", "aria-labelledby": "users-heading" },
    h("h2", { id: "users-heading" }, "Users"),
    table(`${users.length} users`, ["Email", "Name", "Role", "Two-factor", "Last login", "Actions"], rows));

  const saved = h("p", { role: "status", class: "success" });
  const policy = form({
    title: "Organization policy", submit: "Save policy",
    fields: [
      select("Two-factor authentication", "two_factor_policy",
        [["optional", "Optional"], ["required_for_admins", "Required for admins"], ["required_for_all", "Required for everyone"]], org.two_factor_policy),
      field("Grace period (hours)", { name: "grace_period_hours", type: "number", min: 0, max: 720, value: String(org.grace_period_hours),
        hint: "How long people without 2FA may still sign in once the policy applies to them (0 to 720)." }),
    ],
    onSubmit: async (v) => {
      const hours = Number(v.grace_period_hours);
      const body = { two_factor_policy: v.two_factor_policy };
      body.grace_period_hours = Number.isInteger(hours) ? hours : v.grace_period_hours;
      await api("PATCH", "/v1/organization", body);
      saved.textContent = "Policy saved.";
    },
  });
  policy.append(saved);

  render(`Organization: ${org.name}`, h("div", { id: "org-notice", role: "status" }), usersCard, addUser, policy);
}

export async function userHistoryScreen(id) {
  const user = await api("GET", `/v1/users/${encodeURIComponent(id)}`);
  render(`Login history of ${user.email}`,
    h("p", {}, h("a", { href: "#/organization" }, "Back to the organization")),
    await historyCard(`/v1/users/${encodeURIComponent(id)}/login-history`, "Login history"));
}

export async function auditScreen(params) {
  const users = await allUsers();
  const emailOf = Object.fromEntries(users.map((u) => [u.id, u.email]));
  const userId = params.get("user") || "";
  const action = params.get("action") || "";
  const filters = h("form", { class: "card", role: "search", "aria-label": "Filter the audit log", onsubmit: (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    const f = ev.currentTarget;
    if (f.elements.user.value) q.set("user", f.elements.user.value);
    if (f.elements.action.value.trim()) q.set("action", f.elements.action.value.trim());
    location.hash = `#/organization/audit${q.size ? "?" + q : ""}`;
  } },
    h("div", { class: "row" },
      select("User", "user", [["", "All users"], ...users.map((u) => [u.id, u.email])], userId),
      field("Action contains", { name: "action", value: action, hint: "For example two_factor or session." })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter")));

  const body = h("div", {});
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older");
  const rows = [];
  let before = null;
  const load = async () => {
    const q = new URLSearchParams({ limit: "100" });
    if (userId) q.set("user_id", userId);
    if (before) q.set("before", before);
    const page = await api("GET", `/v1/audit-events?${q}`);
    const shown = page.items.filter((e) => !action || e.action.includes(action));
    rows.push(...shown.map((e) => [when(e.at),
      e.actor_type === "user" ? (emailOf[e.actor_id] || e.actor_id || "user") : e.actor_type,
      e.target_user_id ? (emailOf[e.target_user_id] || e.target_user_id) : "—",
      h("code", {}, e.action), e.ip || "—"]));
    body.replaceChildren(table("Events, newest first", ["Time", "Actor", "User", "Action", "Address"], rows));
    before = page.next_before;
    more.hidden = !before;
  };
  more.addEventListener("click", load);
  await load();
  render("Audit log", filters, h("section", { class: "card" }, body, more));
}
