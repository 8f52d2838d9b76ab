// What the dashboard knows of the server beyond each page's data: its
// version (the only thing the public page carries) and, once a user has
// logged in, the configured accounts' platforms and rate limits, read from
// the API (GET .../accounts) so that no one sees them before logging in.

import { BASE, get } from "./api.js";

let cfg = { version: "" };
try {
  cfg = JSON.parse(document.getElementById("magflow-config").textContent);
} catch {
  // a page without configuration still works, without a version
}

/** version is the server's version. */
export const version = cfg.version || "";

/** accounts lists the configured accounts in precedence order; empty until loadAccounts resolves. */
export let accounts = [];

let loading = null;

/**
 * loadAccounts reads the configured accounts once per session: call it
 * after the login (and after a reload with a stored session) before
 * rendering a page. A failed read is retried by the next call.
 */
export function loadAccounts() {
  if (!loading) {
    const p = get(`${BASE}/accounts`).then((res) => {
      if (loading === p) accounts = res.accounts || []; // not a read that outlived its session
    }, (err) => {
      if (loading === p) loading = null;
      throw err;
    });
    loading = p;
  }
  return loading;
}

/** forgetAccounts drops the accounts when the session ends. */
export function forgetAccounts() {
  accounts = [];
  loading = null;
}

/** accountInfo returns one account's platform and limits, or undefined. */
export function accountInfo(name) {
  return accounts.find((a) => a.name === name);
}

/** accountOptions are [value, label] pairs for an account <select>. */
export function accountOptions(all = "All accounts") {
  return [["", all], ...accounts.map((a) => [a.name, a.platform ? `${a.name} (${a.platform})` : a.name])];
}
