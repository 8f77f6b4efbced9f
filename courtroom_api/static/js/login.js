// Login per role (OAuth2 password flow); the token lives in sessionStorage. Each role lands on
// its terminal; terminal accounts are bound to a courtroom and a seat side by the server.
import { ApiError, currentUser, login, token } from "./api.js";
import { h, params, setupHeader } from "./common.js";
import { applyI18n, t } from "./i18n.js";

const HOME = {
  judge: "/bench",
  clerk: "/clerk",
  admin: "/admin",
  party: "/party",
  terminal: "/party",
  appeal_judge: "/search",
};

function landing(user) {
  const next = params().get("next");
  // Only this site's pages: never an absolute URL from the query string, nor one a browser reads as
  // another host ("/\\evil.example" and "/<tab>/evil.example" both become "//evil.example").
  if (next && next.startsWith("/")) {
    try {
      const url = new URL(next, location.origin);
      if (url.origin === location.origin) return url.pathname + url.search + url.hash;
    } catch {
      // not a URL: the role's own page
    }
  }
  return HOME[user.role] || "/bench";
}

function bindingText(user) {
  if (user.role !== "terminal") return "";
  return `${t("login.binding")}: ${user.courtroom_name ?? user.courtroom_id ?? "?"} · ${t(`side.${user.side}`)}`;
}

function render() {
  setupHeader("login.title");
  const error = h("p", { class: "error", id: "login-error", role: "alert" });
  if (params().get("denied")) error.textContent = t("login.denied");
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true,
    autocapitalize: "none" });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password",
    required: true });
  const form = h("form", { class: "login-card", id: "login-form" },
    h("h2", { "data-i18n": "login.title" }),
    h("label", {}, h("span", { "data-i18n": "login.user" }), user),
    h("label", {}, h("span", { "data-i18n": "login.password" }), pass),
    error,
    h("button", { class: "btn primary", type: "submit", id: "login-submit", "data-i18n": "login.submit" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      const u = await login(user.value.trim(), pass.value);
      const bound = bindingText(u);
      if (bound) error.textContent = bound;
      location.assign(landing(u));
    } catch (err) {
      error.textContent = err instanceof ApiError && (err.status === 400 || err.status === 401)
        ? t("login.failed") : `${t("common.error")}: ${err.message}`;
    }
  });
  document.getElementById("main").replaceChildren(form);
  applyI18n();
  const held = currentUser();
  if (token() && held && !params().get("denied")) location.replace(landing(held));
  else user.focus();
}

render();
