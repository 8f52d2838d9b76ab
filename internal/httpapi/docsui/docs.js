// The MagFlow docs page: log in, keep the access token for this tab, and let
// Swagger UI (embedded, no CDN) load /openapi.json and try requests with it.
(function () {
  "use strict";
  var KEY = "magflow.docs.token";
  var $ = function (id) { return document.getElementById(id); };

  function token() { return sessionStorage.getItem(KEY) || ""; }

  function show(user) {
    var logged = !!token();
    $("login").hidden = logged;
    $("logout").hidden = !logged;
    $("who").hidden = !logged;
    $("who").textContent = logged && user ? user.username + " (" + user.role + ")" : "";
  }

  function load(user) {
    show(user);
    if (!token()) { return; }
    var ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      persistAuthorization: false,
      requestInterceptor: function (req) {
        if (!req.headers.Authorization && token()) { req.headers.Authorization = "Bearer " + token(); }
        return req;
      },
      responseInterceptor: function (res) {
        if (res.url && res.url.indexOf("/openapi.json") >= 0 && res.status === 401) {
          sessionStorage.removeItem(KEY);
          $("msg").textContent = "Session expired: log in again.";
          show(null);
        }
        return res;
      }
    });
    ui.preauthorizeApiKey && ui.preauthorizeApiKey("bearer", token());
  }

  $("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("msg").textContent = "";
    fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value })
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      $("password").value = "";
      if (!r.ok) { $("msg").textContent = r.body.detail || "Login failed."; return; }
      sessionStorage.setItem(KEY, r.body.access_token);
      load(r.body.user);
    }).catch(function () { $("msg").textContent = "The server did not answer."; });
  });

  $("logout").addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    location.reload();
  });

  if (token()) {
    fetch("/api/v1/auth/me", { headers: { "Authorization": "Bearer " + token() } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (user) { if (!user) { sessionStorage.removeItem(KEY); } load(user); })
      .catch(function () { load(null); });
  } else {
    show(null);
  }
})();
