// The console's shell: hash routes (so a reload, an expired access token
// or a server restart keeps the person's place), the navigation, and the
// sign-in gate in front of every other screen.

import { watchReachability, Problem } from "./api.js";
import { hasSession, accessToken, onChange, signOut, api, newScreen } from "./session.js";
import { h, render, messageOf } from "./ui.js";

const banner = document.getElementById("status");
watchReachability((up) => {
  banner.hidden = up;
  banner.textContent = up ? "" : "Cannot reach the server; retrying…";
});

let me = null; // the signed-in user, for the navigation

const ROUTES = [
  [/^#\/profile$/, async () => (await import("./profile.js")).profileScreen()],
  [/^#\/organization$/, async () => (await import("./organization.js")).organizationScreen(), "admin"],
  [/^#\/organization\/users\/([^/?]+)$/, async (m) => (await import("./organization.js")).userHistoryScreen(decodeURIComponent(m[1])), "admin"],
  [/^#\/organization\/audit(?:\?(.*))?$/, async (m) => (await import("./organization.js")).auditScreen(new URLSearchParams(m[1] || "")), "admin"],
  [/^#\/organization\/webhooks$/, async () => (await import("./webhooks.js")).webhooksScreen(), "admin"],
  [/^#\/organization\/webhooks\/([^/?]+)$/, async (m) => (await import("./webhooks.js")).webhookScreen(decodeURIComponent(m[1])), "admin"],
  [/^#\/organization\/api-keys$/, async () => (await import("./apikeys.js")).apiKeysScreen(), "admin"],
];

// Screens for people who cannot sign in (yet): shown with or without a
// session, since the mail's link may be opened in any tab.
const PUBLIC = [
  [/^#\/forgot-password$/, async () => (await import("./recovery.js")).forgotPasswordScreen()],
  [/^#\/reset-password(?:\?(.*))?$/, async (m) => (await import("./recovery.js")).resetPasswordScreen(
    new URLSearchParams(m[1] || ""), { signIn: (notice) => { pendingNotice = notice; location.hash = "#/profile"; } })],
];
let pendingNotice = null;

function nav() {
  const el = document.getElementById("nav");
  if (!me) { el.replaceChildren(); return; }
  const link = (href, text) => h("a", { href, "aria-current": location.hash.split("?")[0] === href ? "page" : null }, text);
  const admin = me.role === "admin";
  el.replaceChildren(...[
    link("#/profile", "Profile"),
    admin && link("#/organization", "Organization"),
    admin && link("#/organization/audit", "Audit log"),
    admin && link("#/organization/webhooks", "Webhooks"),
    admin && link("#/organization/api-keys", "API keys"),
    h("button", { type: "button", class: "link", onclick: () => signOut() }, "Sign out"),
  ].filter(Boolean));
}

async function signInThenReturn(notice) {
  const back = location.hash && !location.hash.startsWith("#/sign-in") ? location.hash : "#/profile";
  if (location.hash !== "#/sign-in") history.replaceState(null, "", "#/sign-in");
  newScreen();
  const { signInScreen } = await import("./signin.js");
  signInScreen({
    notice,
    done: () => {
      if (location.hash === back) route(); else location.hash = back;
    },
  });
}

async function route() {
  const hash = location.hash || "#/profile";
  newScreen();
  const open = PUBLIC.find(([re]) => re.test(hash));
  if (open) return open[1](hash.match(open[0]));
  const notice = pendingNotice;
  pendingNotice = null;
  if (!hasSession()) { me = null; nav(); return signInThenReturn(notice); }
  try {
    await accessToken();
    if (!me) me = await api("GET", "/v1/me");
    nav();
    const found = ROUTES.find(([re]) => re.test(hash));
    if (!found || (found[2] === "admin" && me.role !== "admin")) {
      location.replace("#/profile");
      return;
    }
    await found[1](hash.match(found[0]));
  } catch (e) {
    if (e?.code === "superseded") return; // the person already moved on
    if (e instanceof Problem && (e.status === 401 || e.code === "signed_out")) {
      me = null; nav();
      return signInThenReturn("Your session has ended. Please sign in again.");
    }
    render("Something went wrong", h("p", { class: "error", role: "alert" }, messageOf(e)),
      h("button", { type: "button", onclick: route }, "Try again"));
  }
}

onChange((what) => {
  if (what === "signed-out") { me = null; nav(); signInThenReturn(); }
  else { me = null; }
});
window.addEventListener("hashchange", () => { if (location.hash !== "#/sign-in") route(); });
route();
