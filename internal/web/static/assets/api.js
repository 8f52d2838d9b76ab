// The API client: tokens in sessionStorage, refreshed before they expire,
// JSON requests with problem+json errors, event streams and downloads.

export const BASE = "/api/v1/emag/enhanced";

const KEY = "magflow.session";
let session = load();
let refreshTimer = 0;
let refreshing = null;
const listeners = new Set();

function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (s && s.access_token && Date.parse(s.refresh_expires_at) > Date.now()) return s;
  } catch {
    // a corrupt entry is the same as none
  }
  sessionStorage.removeItem(KEY);
  return null;
}

/** ApiError is a failed request, carrying the problem document. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** user returns the logged-in user ({username, role}) or null. */
export function user() {
  return session ? session.user : null;
}

/** canOperate tells whether the user may start syncs and change the schedule. */
export function canOperate() {
  return !!session && session.user.role === "operator";
}

/** onSessionEnd registers a callback run when the session ends (logout, expiry). */
export function onSessionEnd(fn) {
  listeners.add(fn);
}

function store(tok) {
  session = {
    access_token: tok.access_token,
    refresh_token: tok.refresh_token,
    expires_at: tok.expires_at,
    refresh_expires_at: tok.refresh_expires_at,
    user: tok.user,
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  schedule();
}

// schedule refreshes the access token a minute before it expires (or at
// 80% of its life when it is short).
function schedule() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const left = Date.parse(session.expires_at) - Date.now();
  const at = Math.max(1000, Math.min(left - 60000, left * 0.8));
  refreshTimer = setTimeout(() => refresh().catch(() => {}), at);
}

/** login exchanges a username and password for tokens. */
export async function login(username, password) {
  const res = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body);
  store(body);
  return body.user;
}

/** refresh renews the tokens; concurrent callers share one request. */
export function refresh() {
  if (!session) return Promise.reject(new Error("not logged in"));
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const res = await fetch("/api/v1/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh_token: session.refresh_token }),
        });
        const body = await res.json().catch(() => ({}));
        if (!res.ok) {
          logout("Your session ended: log in again.");
          throw new ApiError(res.status, body);
        }
        store(body);
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

/** logout forgets the tokens and tells the listeners. */
export function logout(reason = "") {
  clearTimeout(refreshTimer);
  session = null;
  sessionStorage.removeItem(KEY);
  for (const fn of listeners) fn(reason);
}

// token returns a valid access token, refreshing it first when it expires
// within 30 seconds.
async function token() {
  if (!session) throw new ApiError(401, { detail: "not logged in" });
  if (Date.parse(session.expires_at) - Date.now() < 30000) await refresh();
  return session.access_token;
}

/** query builds a query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function send(method, path, body, accept) {
  const headers = { Authorization: `Bearer ${await token()}`, Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** request calls the API and returns the decoded JSON answer. */
export async function request(method, path, body) {
  let res = await send(method, path, body, "application/json");
  if (res.status === 401 && session) {
    await refresh();
    res = await send(method, path, body, "application/json");
  }
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { detail: text };
  }
  if (!res.ok) {
    if (res.status === 401) logout("Your session ended: log in again.");
    throw new ApiError(res.status, data);
  }
  return data;
}

/** get is request("GET", ...). */
export const get = (path) => request("GET", path);

/** post is request("POST", ...). */
export const post = (path, body) => request("POST", path, body);

/** metrics returns the Prometheus text of /metrics. */
export async function metrics() {
  const res = await send("GET", "/metrics", undefined, "text/plain");
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  return res.text();
}

/**
 * download fetches path with the token and saves the answer as a file named
 * by its Content-Disposition (or fallback).
 */
export async function download(path, fallback) {
  const res = await send("GET", path, undefined, "*/*");
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  const cd = res.headers.get("Content-Disposition") || "";
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : fallback;
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { name, size: blob.size };
}

/**
 * stream opens a server-sent event stream of sync progress. EventSource
 * cannot send headers, so the token goes in the query. onSnapshot receives
 * every snapshot; the stream reopens with a fresh token when it drops (the
 * token is checked once, when it opens). close() stops it.
 */
export function stream(params, onSnapshot, onDone) {
  let es = null;
  let closed = false;
  let retry = 0;
  const open = async () => {
    if (closed) return;
    let tok;
    try {
      tok = await token();
    } catch {
      return;
    }
    if (closed) return;
    es = new EventSource(`${BASE}/products/sync-progress${query({ ...params, access_token: tok })}`);
    es.addEventListener("progress", (e) => {
      retry = 0;
      onSnapshot(JSON.parse(e.data));
    });
    es.addEventListener("done", (e) => {
      onSnapshot(JSON.parse(e.data));
      close();
      if (onDone) onDone();
    });
    es.addEventListener("shutdown", () => close());
    es.onerror = () => {
      // The browser retries by itself while the stream is merely broken;
      // once it gives up (CLOSED), reopen with a fresh token.
      if (es.readyState === EventSource.CLOSED && !closed) {
        retry = Math.min(retry + 1, 6);
        setTimeout(open, 1000 * retry);
      }
    };
  };
  const close = () => {
    closed = true;
    if (es) es.close();
  };
  open();
  return { close };
}

if (session) schedule();
