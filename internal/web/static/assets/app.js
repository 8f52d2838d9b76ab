// The dashboard's entry point: a hash router over the pages, the header,
// and the session's life (login, logout, live streams).

import * as api from "./api.js";
import * as live from "./live.js";
import { forgetAccounts, loadAccounts, version } from "./config.js";
import { errorBox, h, loading } from "./ui.js";
import { loginPage } from "./pages/login.js";
import { overviewPage } from "./pages/overview.js";
import { productsPage, productPage, offersPage } from "./pages/catalog.js";
import { ordersPage, orderPage } from "./pages/orders.js";
import { runsPage, runPage } from "./pages/runs.js";
import { settingsPage } from "./pages/settings.js";

const routes = [
  [/^\/$/, overviewPage, "Overview"],
  [/^\/products$/, productsPage, "Products"],
  [/^\/products\/(\d+)$/, productPage, "Product"],
  [/^\/offers$/, offersPage, "Offers"],
  [/^\/orders$/, ordersPage, "Orders"],
  [/^\/orders\/(\d+)$/, orderPage, "Order"],
  [/^\/runs$/, runsPage, "Sync history"],
  [/^\/runs\/(\d+)$/, runPage, "Sync run"],
  [/^\/settings$/, settingsPage, "Export & schedule"],
];

const main = document.getElementById("main");
const top = document.getElementById("top");
let renderSeq = 0;
let firstRender = true;

/** parse splits the location hash into a path and its query. */
function parse() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  return { path: path || "/", query: new URLSearchParams(qs || "") };
}

/** navigate changes the hash (a page render follows). */
export function navigate(path, params) {
  const qs = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== undefined && v !== null)).toString() : "";
  const next = `#${path}${qs ? `?${qs}` : ""}`;
  if (location.hash === next) render();
  else location.hash = next;
}

function header() {
  const u = api.user();
  top.hidden = !u;
  if (!u) return;
  document.getElementById("who").textContent = `${u.username} · ${u.role}`;
  const { path } = parse();
  for (const a of top.querySelectorAll("nav a")) {
    const p = a.getAttribute("href").slice(1);
    const on = p === "/" ? path === "/" : path === p || path.startsWith(`${p}/`);
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function render() {
  const seq = ++renderSeq;
  const { path, query } = parse();
  closeMenu();
  if (!api.user()) {
    header();
    if (path !== "/login") {
      const next = location.hash && location.hash !== "#/login" ? location.hash.slice(1) : "";
      location.replace(`#/login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
      return;
    }
    document.title = "Log in · MagFlow";
    main.replaceChildren(loginPage(query, async () => {
      const next = query.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("/login") ? next : "/");
    }));
    return;
  }
  if (path === "/login") {
    navigate("/");
    return;
  }
  header();
  // The accounts' platforms and limits come from the API once logged in
  // (the public page does not carry them); every page and the live
  // progress read them, so they are loaded first, once per session.
  main.replaceChildren(loading());
  try {
    await loadAccounts();
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof api.ApiError && err.status === 401) return; // the session ended; logout redirects
    console.error("accounts failed", err);
    main.replaceChildren(errorBox(err));
    return;
  }
  if (seq !== renderSeq) return; // a newer navigation won
  live.start();
  const route = routes.find(([re]) => re.test(path));
  if (!route) {
    main.replaceChildren(h("section.panel", h("h1", "Not found"), h("p", "No such page. ", h("a", { href: "#/" }, "Back to the overview"))));
    return;
  }
  const [re, page, title] = route;
  document.title = `${title} · MagFlow`;
  main.replaceChildren(loading());
  let node;
  try {
    node = await page({ params: path.match(re).slice(1), query, navigate });
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 401) return; // the session ended; logout redirects
    console.error("page failed", err);
    node = errorBox(err);
  }
  if (seq !== renderSeq) return; // a newer navigation won
  main.replaceChildren(node);
  if (!firstRender) main.focus({ preventScroll: true });
  firstRender = false;
  window.scrollTo(0, 0);
}

function closeMenu() {
  const t = document.getElementById("menu-toggle");
  t.setAttribute("aria-expanded", "false");
  document.getElementById("nav").classList.remove("open");
}

document.getElementById("menu-toggle").addEventListener("click", (e) => {
  const open = e.currentTarget.getAttribute("aria-expanded") !== "true";
  e.currentTarget.setAttribute("aria-expanded", String(open));
  document.getElementById("nav").classList.toggle("open", open);
});

document.getElementById("logout").addEventListener("click", () => api.logout());

api.onSessionEnd((reason) => {
  live.stop();
  forgetAccounts();
  sessionStorage.setItem("magflow.notice", reason || "");
  if (location.hash === "#/login") render();
  else location.hash = "#/login";
});

document.getElementById("foot").textContent = `MagFlow ${version}`;
window.addEventListener("hashchange", render);
render();
