// Organization > API keys: keys for partner servers, each limited to
// scopes, shown once at creation (Authgate keeps only a hash), revocable.

import { api } from "./session.js";
import { h, field, form, render, table, when, messageOf, checkboxes, checked, shownOnce, confirmButton } from "./ui.js";

const SCOPES = [
  ["users:read", "users:read — list users, read a user and their login history"],
  ["audit:read", "audit:read — read the audit log"],
  ["tokens:introspect", "tokens:introspect — check access tokens (OAuth introspection)"],
];

export async function apiKeysScreen() {
  const { items } = await api("GET", "/v1/organization/api-keys");
  const notice = h("div", { id: "api-key-notice" });

  const create = form({
    title: "Create API key", submit: "Create API key", className: "card",
    fields: [
      field("Name", { name: "name", autocomplete: "off", required: true, maxLength: 100, hint: "What the key is for, e.g. Helpdesk sync." }),
      checkboxes("Scopes", "scopes", SCOPES, { hint: "What the key may do; it acts with your rights, in this organization only." }),
      field("Expires on", { name: "expires_at", type: "date", hint: "Optional: the key stops working at the start of this day (UTC). Empty: it never expires." }),
    ],
    onSubmit: async (v) => {
      const body = { name: v.name.trim(), scopes: checked(v, "scopes") };
      if (v.expires_at) body.expires_at = `${v.expires_at}T00:00:00Z`;
      const key = await api("POST", "/v1/organization/api-keys", body);
      await apiKeysScreen();
      document.getElementById("api-key-notice").replaceChildren(h("section", { class: "card", "aria-labelledby": "key-new" },
        h("h2", { id: "key-new", class: "success", tabIndex: -1 }, `Created ${key.name}`),
        shownOnce("API key", key.key, "Send it as Authorization: Bearer … from the partner's server. Authgate keeps only its hash.")));
      document.getElementById("key-new").focus();
    },
  });

  const rows = items.map((k) => {
    const nameId = `key-${k.id}`;
    const said = h("p", { id: `said-${k.id}`, class: "said error", role: "status" });
    return [
      h("span", { id: nameId }, k.name), k.scopes.join(", "), when(k.created_at), when(k.last_used_at),
      k.expires_at ? when(k.expires_at) : "Never",
      h("div", { class: "actions" },
        confirmButton("Revoke", `Revoke ${k.name}? It stops working at once.`, {
          confirm: "Yes, revoke", describedBy: `${nameId} said-${k.id}`,
          run: async (btn) => {
            btn.disabled = true;
            try {
              await api("DELETE", `/v1/organization/api-keys/${encodeURIComponent(k.id)}`);
              await apiKeysScreen();
              document.getElementById("api-key-notice").replaceChildren(h("p", { class: "success" }, `Revoked ${k.name}.`));
            } catch (e) { btn.disabled = false; said.textContent = messageOf(e); }
          },
        }), said),
    ];
  });
  render("API keys", notice,
    h("section", { class: "card", "aria-labelledby": "keys-heading" }, h("h2", { id: "keys-heading" }, "Keys"),
      items.length ? table(items.length === 1 ? "1 key" : `${items.length} keys`, ["Name", "Scopes", "Created", "Last used", "Expires", "Actions"], rows)
        : h("p", { class: "muted" }, "No API keys yet.")),
    create);
}
