// The login page.

import { login } from "../api.js";
import { h } from "../ui.js";

/** loginPage renders the login form; done runs after a successful login. */
export function loginPage(_query, done) {
  const notice = sessionStorage.getItem("magflow.notice");
  sessionStorage.removeItem("magflow.notice");
  const msg = h("p.error", { role: "alert", hidden: true });
  const user = h("input", { id: "login-username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button.primary", { type: "submit" }, "Log in");
  const form = h("form.login", {
    onsubmit: async (e) => {
      e.preventDefault();
      msg.hidden = true;
      submit.disabled = true;
      try {
        await login(user.value.trim(), pass.value);
        done();
      } catch (err) {
        msg.textContent = err.status === 429 ? `Too many attempts: ${err.message}` : err.message || "Could not log in.";
        msg.hidden = false;
        pass.select();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h("div.field", h("label", { for: "login-username" }, "Username"), user),
  h("div.field", h("label", { for: "login-password" }, "Password"), pass),
  msg, submit);
  setTimeout(() => user.focus(), 0);
  return h("section.login-box",
    h("div.brand", h("img", { src: "/assets/icon.svg", alt: "", width: 32, height: 32 }), h("span", "MagFlow")),
    h("h1", "Log in"),
    h("p.muted", "The eMAG Marketplace connector's dashboard. Ask an administrator for an account (magflow user create)."),
    notice ? h("p.notice", { role: "status" }, notice) : null,
    form);
}
