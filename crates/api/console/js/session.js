// Tokens. The access token lives in this module's memory only. The refresh
// token is kept in sessionStorage (this tab only, gone with the tab, never
// localStorage) so a reload or a server restart does not sign the person
// out. Refresh tokens rotate on every use and a reused one ends the
// session, so refreshes are serialised across tabs with a Web Lock and
// each rotation is announced on a BroadcastChannel: a duplicated tab that
// started with the same refresh token takes the new one instead of
// presenting the spent one. See SECURITY.md, "The web console".

import { request, Problem } from "./api.js";

const STORE = "authgate.refresh";
const LOCK = "authgate-refresh";
const channel = "BroadcastChannel" in self ? new BroadcastChannel("authgate-session") : null;
const MARGIN_MS = 30_000;
const SETTLE_MS = 60;

let access = null; // { token, exp, sid, sub, role, amr }
const listeners = new Set();

/** Called with "signed-in" or "signed-out". */
export function onChange(fn) { listeners.add(fn); }
const notify = (what) => listeners.forEach((fn) => fn(what));

function claims(jwt) {
  const part = jwt.split(".")[1] || "";
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  try { return JSON.parse(atob(b64 + "===".slice((b64.length + 3) % 4))); } catch { return {}; }
}

function stored() {
  try { return JSON.parse(sessionStorage.getItem(STORE)); } catch { return null; }
}

// `gen` counts the rotations of this session's refresh token. Rotations
// are serialised by the lock, so a higher number is always the newer
// token, whichever tab made it.
function adopt(tokens, gen) {
  const c = claims(tokens.access_token);
  access = tokens.expires_in > 0 ? {
    token: tokens.access_token,
    exp: Date.now() + tokens.expires_in * 1000,
    sid: c.sid, sub: c.sub, role: c.role, amr: tokens.amr || c.amr || [],
  } : null;
  sessionStorage.setItem(STORE, JSON.stringify({ sid: c.sid, refresh: tokens.refresh_token, gen }));
}

function forget() {
  access = null;
  sessionStorage.removeItem(STORE);
}

const fresh = () => access && access.exp - Date.now() > MARGIN_MS;

/** What this tab holds, for a tab of the same session that asks. */
function holding() {
  const mine = stored();
  if (!mine) return null;
  return {
    type: "rotated", sid: mine.sid, gen: mine.gen,
    tokens: {
      access_token: access?.token ?? "", refresh_token: mine.refresh, amr: access?.amr,
      expires_in: access ? Math.floor((access.exp - Date.now()) / 1000) : 0,
    },
  };
}

if (channel) {
  channel.onmessage = ({ data }) => {
    const mine = stored();
    if (!mine || !data || mine.sid !== data.sid) return; // another session
    if (data.type === "rotated" && data.gen > (mine.gen ?? 0)) {
      if (data.tokens.access_token) adopt(data.tokens, data.gen);
      else sessionStorage.setItem(STORE, JSON.stringify({ ...mine, refresh: data.tokens.refresh_token, gen: data.gen }));
    }
    if (data.type === "ask") channel.postMessage(holding());
    if (data.type === "ended") { forget(); notify("signed-out"); }
  };
}

/** Tokens from a completed sign-in. */
export function signedIn(tokens) {
  adopt(tokens, 0);
  notify("signed-in");
}

/** Whether this tab holds a session (it may still need a refresh). */
export const hasSession = () => stored() !== null;
export const current = () => access;

/** A valid access token, refreshing first when it is about to expire. */
export async function accessToken() {
  if (fresh()) return access.token;
  return refresh();
}

async function refresh() {
  const run = async () => {
    // Another tab of this session (opened from this one, so it started
    // with the same refresh token) may have rotated it, even while this
    // page was loading: ask, and let answers land before deciding.
    const asked = stored();
    if (channel && asked) {
      channel.postMessage({ type: "ask", sid: asked.sid });
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    }
    if (fresh()) return access.token;
    const mine = stored();
    if (!mine) throw new Problem(401, { code: "signed_out", detail: "Please sign in." });
    try {
      const tokens = await request("POST", "/v1/auth/refresh", { body: { refresh_token: mine.refresh } });
      const gen = (mine.gen ?? 0) + 1;
      adopt(tokens, gen);
      channel?.postMessage({ type: "rotated", sid: access.sid, gen, tokens });
      return access.token;
    } catch (e) {
      if (e.status === 401) { forget(); notify("signed-out"); }
      throw e;
    }
  };
  return navigator.locks ? navigator.locks.request(LOCK, run) : run();
}

/**
 * An API call as the signed-in user. An access token the server no longer
 * accepts (expired, keys rotated) is refreshed once and the call repeated;
 * other 401s (a wrong password or code) are the caller's to show.
 */
export async function api(method, path, body) {
  const screen = shown;
  const answer = await call(method, path, body);
  // A screen still loading when the person moved on (a quick click in the
  // navigation) must not draw over the next one: its answers stop here.
  if (screen !== shown) throw new Problem(0, { code: "superseded", detail: "The page changed." });
  return answer;
}

let shown = 0;
/** A new screen starts: answers to the previous one's calls are dropped. */
export function newScreen() { shown++; }

async function call(method, path, body) {
  let token = await accessToken();
  try {
    return await request(method, path, { body, token });
  } catch (e) {
    if (!(e instanceof Problem) || e.status !== 401 || e.code !== "unauthorized") throw e;
    access = null;
    token = await refresh();
    return request(method, path, { body, token });
  }
}

/** Ends this session on the server and in every tab sharing it. */
export async function signOut() {
  const sid = access?.sid ?? stored()?.sid;
  try {
    if (access) await request("POST", "/v1/auth/logout", { token: access.token });
  } catch { /* the session is forgotten here either way */ }
  forget();
  channel?.postMessage({ type: "ended", sid });
  notify("signed-out");
}
