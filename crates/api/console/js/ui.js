// Small DOM helpers. Elements are built with properties and text nodes,
// never innerHTML, so nothing from the server can become markup.

let uid = 0;

/** h("button", { type: "submit", onclick }, "Sign in") */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && !k.includes("-") && k !== "list") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * A labelled input with its own error line, tied together with
 * aria-describedby so screen readers read the error with the field.
 */
export function field(label, { name, type = "text", hint, ...attrs }) {
  const id = `f${++uid}-${name}`;
  const errId = id + "-error";
  const hintId = hint ? id + "-hint" : null;
  const input = h("input", { id, name, type, ...attrs });
  input.setAttribute("aria-describedby", [hintId, errId].filter(Boolean).join(" "));
  const error = h("p", { id: errId, class: "error", dataset: { errorFor: name } });
  if (type === "checkbox") {
    return h("div", { class: "field check" }, input, h("label", { htmlFor: id }, label), error);
  }
  return h("div", { class: "field" },
    h("label", { htmlFor: id }, label),
    hint && h("span", { id: hintId, class: "muted" }, hint),
    input, error);
}

export function select(label, name, options, value) {
  const id = `f${++uid}-${name}`;
  const errId = id + "-error";
  const el = h("select", { id, name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  el.setAttribute("aria-describedby", errId);
  return h("div", { class: "field" }, h("label", { htmlFor: id }, label), el,
    h("p", { id: errId, class: "error", dataset: { errorFor: name } }));
}

/** A form whose submit handler gets the values; errors land by field. */
export function form({ title, fields, submit, onSubmit, extra = [], className = "card narrow", label }) {
  const formError = h("p", { class: "error", role: "alert", dataset: { errorFor: "_form" } });
  const button = h("button", { type: "submit" }, submit);
  const f = h("form", { class: className, noValidate: true, "aria-label": label || title || submit },
    title && h("h2", {}, title), ...fields, formError, h("div", { class: "actions" }, button, ...extra));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    button.disabled = true;
    try {
      await onSubmit(values(f), f);
    } catch (e) {
      showError(f, e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

export function values(f) {
  const out = {};
  for (const el of f.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === "checkbox" ? el.checked : el.value;
  }
  return out;
}

export function clearErrors(root) {
  root.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
  root.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

// Which field a problem is about, from its stable code (the API names
// fields in `detail` for invalid_request, e.g. "new_password must ...").
const FIELD_OF_CODE = {
  invalid_password: ["password", "current_password"],
  invalid_code: ["code", "recovery_code"],
  invalid_credentials: ["password"],
  email_taken: ["email"],
  two_factor_enforced: ["password"],
  webhook_url_refused: ["url"],
  invalid_password_token: ["token"],
  second_factor_required: ["code", "recovery_code"],
};

/**
 * Shows a Problem next to the field it concerns, else for the form. A
 * group of checkboxes (a fieldset) has one error line named after the
 * body field it fills, e.g. `events` or `scopes`.
 */
export function showError(f, e) {
  const message = messageOf(e);
  const names = [...f.elements].filter((el) => el.name && !el.disabled && el.offsetParent !== null).map((el) => el.name);
  // Error lines of no single input: a checkbox group's, or the token's.
  const groups = [...f.querySelectorAll("[data-error-for]")].map((p) => p.dataset.errorFor)
    .filter((n) => n !== "_form" && !f.elements.namedItem(n));
  const known = [...names, ...groups];
  let target = (FIELD_OF_CODE[e?.code] || []).find((n) => known.includes(n));
  if (!target && e?.code === "invalid_request") {
    target = known.filter((n) => (e.detail || "").includes(n)).sort((a, b) => b.length - a.length)[0];
  }
  const p = f.querySelector(`[data-error-for="${target || "_form"}"]`) || f.querySelector('[data-error-for="_form"]');
  p.textContent = message;
  if (!target) return;
  const input = f.elements.namedItem(target);
  if (input instanceof HTMLElement) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else {
    p.closest("fieldset")?.querySelector("input")?.focus();
  }
}

/**
 * A group of checkboxes sending one array (`name`), with its own error
 * line. Each box is named `name:value` so the form's values stay flat.
 */
export function checkboxes(legend, name, options, { hint } = {}) {
  const errId = `f${++uid}-${name}-error`;
  const box = h("fieldset", { class: "field group" }, h("legend", {}, legend),
    hint && h("p", { class: "muted" }, hint),
    h("div", { class: "choices" }, options.map(([value, text]) => {
      const id = `f${++uid}-${name}`;
      const input = h("input", { id, type: "checkbox", name: `${name}:${value}` });
      input.setAttribute("aria-describedby", errId);
      return h("span", { class: "check" }, input, h("label", { htmlFor: id }, text));
    })),
    h("p", { id: errId, class: "error", dataset: { errorFor: name } }));
  return box;
}

/** The values checked in a `checkboxes` group. */
export function checked(v, name) {
  return Object.keys(v).filter((k) => k.startsWith(name + ":") && v[k]).map((k) => k.slice(name.length + 1));
}

/** A secret shown this once, with a copy button and a warning. */
export function shownOnce(label, secret, note) {
  const copied = h("span", { role: "status", class: "success" });
  const code = h("code", { class: "secret", dataset: { shownOnce: label } }, secret);
  return h("div", { class: "once", role: "group", "aria-label": label },
    h("p", {}, h("strong", {}, label), " (shown only now; store it before leaving this page):"),
    h("p", {}, code),
    note && h("p", { class: "muted" }, note),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: async () => {
        try { await navigator.clipboard.writeText(secret); copied.textContent = "Copied."; }
        catch {
          getSelection().selectAllChildren(code);
          copied.textContent = "Copy failed: the text is selected, copy it with the keyboard.";
        }
      } }, `Copy ${/^[A-Z]{2}/.test(label) ? label : label.charAt(0).toLowerCase() + label.slice(1)}`),
      copied));
}

/**
 * A destructive button that asks first, in place: the control is swapped
 * for a question with the confirming and the cancelling button, and focus
 * follows so keyboard users land on the question.
 */
export function confirmButton(text, question, { confirm, run, describedBy }) {
  const slot = h("span", { class: "confirm" });
  const ask = () => {
    const yes = h("button", { type: "button", class: "danger", onclick: () => run(yes) }, confirm);
    const no = h("button", { type: "button", class: "secondary", onclick: () => { slot.replaceChildren(start); start.focus(); } }, "Cancel");
    if (describedBy) yes.setAttribute("aria-describedby", describedBy);
    slot.replaceChildren(h("span", { role: "alert" }, question), " ", yes, " ", no);
    yes.focus();
  };
  const start = h("button", { type: "button", class: "secondary", onclick: ask }, text);
  if (describedBy) start.setAttribute("aria-describedby", describedBy);
  slot.append(start);
  return slot;
}

/** The problem's detail as a sentence (the API writes it in lower case). */
export function messageOf(e) {
  const text = e?.detail || e?.message || "Something went wrong";
  // "expires_at must be …" names a body field: keep it as the API spells it.
  const namesField = /^[a-z]+_[a-z_]+\b/.test(text) || /^[a-z]+ must /.test(text);
  const sentence = namesField ? text : text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : sentence + ".";
}

/** Replaces the main area and moves focus to the new heading. */
export function render(title, ...content) {
  const main = document.getElementById("main");
  const heading = h("h1", { tabIndex: -1 }, title);
  main.replaceChildren(heading, ...content.flat().filter(Boolean));
  document.title = `${title} · Authgate`;
  heading.focus();
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

/** A table that stacks into labelled rows on a phone. */
export function table(caption, columns, rows) {
  return h("div", { class: "table" }, h("table", { class: "stack" },
    h("caption", { class: "muted" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { dataset: { label: columns[i] } }, c)))))));
}

export function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
