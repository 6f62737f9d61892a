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
};

/** Shows a Problem next to the field it concerns, else for the form. */
export function showError(f, e) {
  const message = messageOf(e);
  const names = [...f.elements].filter((el) => el.name && !el.disabled && el.offsetParent !== null).map((el) => el.name);
  let target = (FIELD_OF_CODE[e?.code] || []).find((n) => names.includes(n));
  if (!target && e?.code === "invalid_request") {
    target = names.filter((n) => (e.detail || "").includes(n)).sort((a, b) => b.length - a.length)[0];
  }
  const p = f.querySelector(`[data-error-for="${target || "_form"}"]`) || f.querySelector('[data-error-for="_form"]');
  p.textContent = message;
  if (target) {
    const input = f.elements[target];
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

/** The problem's detail as a sentence (the API writes it in lower case). */
export function messageOf(e) {
  const text = e?.detail || e?.message || "Something went wrong";
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
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
