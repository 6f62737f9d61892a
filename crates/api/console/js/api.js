// The one way the console talks to Authgate: same-origin JSON over fetch,
// problem+json (RFC 9457) errors turned into `Problem`s, and a bounded wait
// while the server is unreachable (a restart) instead of losing the page.

export class Problem extends Error {
  constructor(status, body, retryAfter) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || "http_" + status;
    this.title = body?.title || "";
    this.detail = body?.detail || "";
    this.retryAfter = retryAfter;
  }
}

let onReachability = () => {};
/** The UI tells the person when the server is away and when it is back. */
export function watchReachability(fn) { onReachability = fn; }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * fetch that survives a server restart: a refused connection is retried
 * for up to a minute (the request never reached the server, so retrying
 * is safe), with the person told what is going on.
 */
async function reach(url, init) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, init);
      if (attempt > 0) onReachability(true);
      if ((res.status === 503 || res.status === 502) && attempt < 30) {
        onReachability(false);
        await sleep(Math.min(2000, 250 * 2 ** attempt));
        continue;
      }
      return res;
    } catch (e) {
      if (attempt >= 30) throw new Problem(0, { code: "unreachable", detail: "The server cannot be reached." });
      onReachability(false);
      await sleep(Math.min(2000, 250 * 2 ** attempt));
    }
  }
}

/**
 * One JSON request. `token` is an access token or null; the body is sent
 * as JSON when given. Resolves to the parsed body (null for 204).
 */
export async function request(method, path, { body, token } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = "Bearer " + token;
  const res = await reach(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new Problem(res.status, json, res.headers.get("retry-after"));
  return json;
}
