// Helpers every page shares: element builder, the page header, time formatting, role colours.
import { ENDPOINTS, api, currentUser, logout } from "./api.js";
import { applyI18n, roleLabel, t, toggleLang } from "./i18n.js";

/** h("div", {class: "x", onclick}, child, "text") → element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "html") el.innerHTML = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A hearing in a picker, as an i18n template (``fmt``): case, title, and its status in the page's language. */
export function hearingOption(hr) {
  return `${hr.case_number ?? hr.case_id} · ${hr.title || `#${hr.id}`} · {{status.${hr.status}}}`;
}

/** Seconds → "h:mm:ss" or "m:ss". */
export function fmtTime(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

const ROLE_CLASSES = new Set([
  "judge", "presiding_judge", "peoples_assessor", "clerk", "plaintiff", "defendant", "third_party",
  "agent", "prosecutor", "witness", "expert", "interpreter",
]);

/** CSS class carrying the role colour (counsel takes the colour of the side it represents). */
export function roleClass(role, side) {
  if (role === "agent" && (side === "plaintiff" || side === "defendant")) return `role-agent-${side}`;
  return ROLE_CLASSES.has(role) ? `role-${role}` : "role-unknown";
}

export function roleBadge(role, side, name) {
  // The role part carries its i18n key so a language switch relabels lines already on screen.
  const key = role ? `role.${role}` : "role.unknown";
  const label = h("span", { "data-i18n": roleLabel(role) === role ? null : key }, roleLabel(role));
  return h("span", { class: `badge ${roleClass(role, side)}` }, label, name ? ` · ${name}` : "");
}

/** Fill the page header: title, language toggle, user and logout. */
export function setupHeader(titleKey) {
  const header = document.querySelector("header.topbar");
  const user = currentUser();
  const title = h("h1", { class: "title" }, h("span", { "data-i18n": "app.title" }), " · ",
    h("span", { "data-i18n": titleKey }));
  const right = h("div", { class: "topbar-right" });
  const slot = h("div", { class: "topbar-slot", id: "topbar-slot" });
  if (user) {
    right.append(h("span", { class: "who" }, user.display_name || user.login || user.username || "",
      " (", h("span", { "data-i18n": `role.${user.role}` }), ")"));
  }
  right.append(h("button", { class: "btn", id: "lang-toggle", type: "button", onclick: toggleLang,
    "data-i18n": "lang.toggle" }));
  if (user) right.append(h("button", { class: "btn", id: "logout", type: "button", onclick: logout,
    "data-i18n": "nav.logout" }));
  header.replaceChildren(title, slot, right);
  applyI18n();
}

/** Show a transient message at the bottom of the screen (errors, warnings, confirmations). */
export function toast(message, kind = "info", ms = 4000) {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const el = h("div", { class: `toast toast-${kind}` }, message);
  box.append(el);
  setTimeout(() => el.remove(), ms);
}

/** Report an error to the user instead of the console (pages must stay console-clean). */
export function reportError(err) {
  toast(`${t("common.error")}: ${err?.detail ?? err?.message ?? err}`, "error");
}

/**
 * Search snippets arrive HTML-escaped with <mark> highlights. Rebuild them from text nodes and
 * <mark> elements only, so nothing else from the server can become markup.
 */
export function markedSnippet(snippet) {
  const tpl = document.createElement("template");
  tpl.innerHTML = String(snippet ?? "");
  const out = document.createDocumentFragment();
  const walk = (node, into) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) into.append(child.textContent);
      else if (child.nodeName === "MARK") {
        const m = document.createElement("mark");
        m.textContent = child.textContent;
        into.append(m);
      } else walk(child, into);
    }
  };
  walk(tpl.content, out);
  return out;
}

/** An ISO time from the API (UTC) → local "YYYY-MM-DD HH:MM" of the terminal. */
export function fmtDate(iso) {
  if (!iso) return "";
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * Start / recess / stop buttons for a hearing (judge and clerk): start uses the courtroom's own profile
 * (the demo courtroom replays the bundled sample hearing) and, after a recess, goes on with the hearing;
 * `onChange(hearing)` after each. An ended hearing cannot start again, and 闭庭 sits next to 开庭 on a
 * touch screen: it ends the hearing only on a second, deliberate tap (确认闭庭), as a note's delete.
 */
export function hearingControls(getHearing, onChange) {
  const start = h("button", { class: "btn", type: "button", id: "hearing-start", "data-i18n": "hearing.start" });
  const pause = h("button", { class: "btn", type: "button", id: "hearing-pause", "data-i18n": "hearing.pause" });
  const stop = h("button", { class: "btn", type: "button", id: "hearing-stop", "data-i18n": "hearing.stop" });
  const ask = h("span", { class: "ask", id: "hearing-stop-ask", "data-i18n": "hearing.stopask", hidden: true });
  const confirm = h("button", { class: "btn danger", type: "button", id: "hearing-stop-confirm",
    "data-i18n": "hearing.confirmstop", hidden: true });
  const cancel = h("button", { class: "btn", type: "button", id: "hearing-stop-cancel", "data-i18n": "tr.cancel",
    hidden: true });
  let asking = null; // the hearing whose 闭庭 waits for its confirmation
  let askedIn = null; // its status when asked: the judge confirms the end of the hearing as it was then
  const refresh = () => {
    const hr = getHearing();
    const status = hr?.status;
    const running = status === "in_progress" || status === "paused";
    // Another hearing opened, or this one ended or was resumed (or recessed) elsewhere: the question goes.
    if (!running || String(hr.id) !== asking || status !== askedIn) asking = null;
    start.hidden = Boolean(asking) || !(status === "scheduled" || status === "paused");
    pause.hidden = Boolean(asking) || status !== "in_progress";
    stop.hidden = Boolean(asking) || !running;
    ask.hidden = confirm.hidden = cancel.hidden = !asking;
  };
  const act = (path) => async () => {
    const hr = getHearing();
    asking = null;
    if (!hr) return refresh();
    // 取消 too: tapped while 闭庭 is under way, it showed the hearing kept, and the hearing ended all the same
    start.disabled = pause.disabled = stop.disabled = confirm.disabled = cancel.disabled = true;
    try {
      const updated = await api("POST", path(hr.id), { json: path === ENDPOINTS.start ? {} : undefined });
      onChange(updated);
      // A recess on a full recordings disk began all the same: its last seconds wait in the server's memory.
      if (updated?.recording_held) toast(t("hearing.held"), "warning", 15000);
    } catch (err) {
      reportError(err);
    } finally {
      start.disabled = pause.disabled = stop.disabled = confirm.disabled = cancel.disabled = false;
      refresh();
    }
  };
  const keep = () => {
    asking = null;
    refresh();
    stop.focus();
  };
  start.addEventListener("click", act(ENDPOINTS.start));
  pause.addEventListener("click", act(ENDPOINTS.pause));
  stop.addEventListener("click", () => {
    const hr = getHearing();
    if (!hr) return;
    asking = String(hr.id);
    askedIn = hr.status;
    refresh();
    cancel.focus(); // Enter right after the first tap keeps the hearing going
  });
  confirm.addEventListener("click", act(ENDPOINTS.stop));
  cancel.addEventListener("click", keep);
  for (const b of [confirm, cancel]) b.addEventListener("keydown", (e) => { if (e.key === "Escape") keep(); });
  return { elements: [start, pause, stop, ask, confirm, cancel], refresh };
}

export function params() {
  return new URLSearchParams(location.search);
}
