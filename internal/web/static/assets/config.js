// The server's page configuration: the accounts' platforms and rate limits
// (the API does not report them) and the version.

let cfg = { accounts: [], version: "" };
try {
  cfg = JSON.parse(document.getElementById("magflow-config").textContent);
} catch {
  // a page without configuration still works, without platforms and limits
}

/** accounts lists the configured accounts in precedence order. */
export const accounts = cfg.accounts || [];

/** version is the server's version. */
export const version = cfg.version || "";

/** accountInfo returns one account's platform and limits, or undefined. */
export function accountInfo(name) {
  return accounts.find((a) => a.name === name);
}

/** accountOptions are [value, label] pairs for an account <select>. */
export function accountOptions(all = "All accounts") {
  return [["", all], ...accounts.map((a) => [a.name, a.platform ? `${a.name} (${a.platform})` : a.name])];
}
