// Administrator's page: the users (add one, disable or enable, end their logins, lift a lock), the
// courtrooms with their hardware profiles, and the audit trail (newest first, filtered by object and
// action, paged back) with a check of its hash chain. It calls the admin API only: an administrator
// runs no hearing, so the bench and clerk consoles are not theirs.
import { ENDPOINTS, api, requireLogin } from "./api.js";
import { fmtDate, h, reportError, setupHeader, toast } from "./common.js";
import { applyI18n, roleLabel, t } from "./i18n.js";

const user = requireLogin(["admin"]);
const ROLES = ["judge", "clerk", "party", "appeal_judge", "admin", "terminal"];
const SIDES = ["plaintiff", "defendant", "third_party", "prosecution", "bench", "neutral"];
const AUDIT_PAGE = 50;
const rooms = new Map(); // courtroom id → courtroom (the terminals' rooms, the add form's picker)
const audit = { filter: {}, oldestId: null, no: 0 }; // the trail shown: its filter, where "older" goes on

function field(key, input) {
  return h("label", {}, h("span", { "data-i18n": key }), input);
}

function th(...keys) {
  return h("thead", {}, h("tr", {}, keys.map((k) => h("th", { "data-i18n": k }))));
}

function i18nText(key) {
  return h("span", { "data-i18n": key }, t(key));
}

// ---- users ----------------------------------------------------------------------------------------

/** A button that runs `call`, says it was done (or why not), then re-reads the users and the trail. */
function userAction(key, u, call) {
  const btn = h("button", { class: "btn", type: "button", dataset: { action: key }, "data-i18n": key }, t(key));
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await call();
      toast(`${t(key)} · ${u.login}: ${t("admin.done")}`);
      await Promise.all([loadUsers(), loadAudit()]);
    } catch (err) {
      reportError(err);
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

function userRow(u) {
  const state = u.is_active ? "admin.active" : "admin.disabled";
  const room = u.courtroom_id ? rooms.get(u.courtroom_id)?.name ?? `#${u.courtroom_id}` : null;
  return h("tr", { dataset: { userId: u.id, login: u.login, active: String(u.is_active) } },
    h("td", {}, u.login),
    h("td", {}, u.display_name),
    h("td", {}, h("span", { "data-i18n": `role.${u.role}` }, roleLabel(u.role)),
      room ? ` · ${room}` : "", u.side ? [" · ", i18nText(`side.${u.side}`)] : ""),
    h("td", {}, h("span", { class: u.is_active ? "tag" : "tag off", "data-i18n": state }, t(state))),
    h("td", {}, h("div", { class: "row" },
      userAction(u.is_active ? "admin.disable" : "admin.enable", u,
        () => api("PATCH", ENDPOINTS.user(u.id), { json: { is_active: !u.is_active } })),
      userAction("admin.revoke", u, () => api("POST", ENDPOINTS.userRevokeTokens(u.id))),
      userAction("admin.unlock", u, () => api("POST", ENDPOINTS.userUnlock(u.id))))));
}

async function loadUsers() {
  const users = await api("GET", ENDPOINTS.users);
  document.getElementById("user-rows").replaceChildren(...users.map(userRow));
  applyI18n(document.getElementById("user-rows"));
}

function addUserForm() {
  const login = h("input", { id: "new-login", required: true, maxlength: 100, pattern: "[A-Za-z0-9_.@\\-]+",
    autocapitalize: "none", autocomplete: "off" });
  const name = h("input", { id: "new-name", maxlength: 200, autocomplete: "off" });
  const pass = h("input", { id: "new-password", type: "password", required: true, minlength: 8, maxlength: 200,
    autocomplete: "new-password" });
  const role = h("select", { id: "new-role" }, ROLES.map((r) => h("option", { value: r, "data-i18n": `role.${r}` })));
  const room = h("select", { id: "new-courtroom" });
  const side = h("select", { id: "new-side" }, h("option", { value: "" }, "—"),
    SIDES.map((s) => h("option", { value: s, "data-i18n": `side.${s}` })));
  // A terminal stands in a courtroom on one side; other logins are bound to neither.
  const bound = [field("admin.courtroom", room), field("admin.side", side)];
  const showBinding = () => { for (const el of bound) el.hidden = role.value !== "terminal"; };
  role.addEventListener("change", showBinding);
  role.value = "clerk";
  showBinding();
  const form = h("form", { class: "admin-form", id: "add-user" },
    field("admin.login", login), field("admin.name", name), field("admin.password", pass), field("admin.role", role),
    bound, h("button", { class: "btn primary", type: "submit", id: "add-user-go", "data-i18n": "admin.add" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const terminal = role.value === "terminal";
    const body = { login: login.value.trim(), password: pass.value, role: role.value, display_name: name.value.trim(),
      courtroom_id: terminal && room.value ? Number(room.value) : null, side: terminal && side.value ? side.value : null };
    try {
      const made = await api("POST", ENDPOINTS.users, { json: body });
      toast(`${t("admin.added")}: ${made.login}`);
      form.reset();
      role.value = "clerk";
      showBinding();
      await Promise.all([loadUsers(), loadAudit()]);
    } catch (err) {
      reportError(err);
    }
  });
  return form;
}

// ---- courtrooms -----------------------------------------------------------------------------------

async function loadCourtrooms() {
  const [courts, list] = await Promise.all([api("GET", ENDPOINTS.courts), api("GET", ENDPOINTS.courtrooms)]);
  const courtNames = new Map(courts.map((c) => [c.id, c.name]));
  rooms.clear();
  for (const r of list) rooms.set(r.id, r);
  document.getElementById("courtroom-rows").replaceChildren(...list.map((r) => h("tr", { dataset: { courtroomId: r.id } },
    h("td", {}, r.name), h("td", {}, courtNames.get(r.court_id) ?? `#${r.court_id}`),
    h("td", { class: "profile" }, r.profile_name))));
  document.getElementById("new-courtroom").replaceChildren(...list.map((r) => h("option", { value: r.id }, r.name)));
}

// ---- audit trail ----------------------------------------------------------------------------------

function auditRow(ev) {
  const details = JSON.stringify(ev.details ?? {});
  return h("tr", { dataset: { eventId: ev.id, action: ev.action, object: ev.object } },
    h("td", {}, ev.id), h("td", { class: "nowrap" }, fmtDate(ev.occurred_at)), h("td", {}, ev.actor),
    h("td", {}, ev.action), h("td", {}, ev.object), h("td", { class: "details" }, details === "{}" ? "" : details));
}

/** The newest page of the trail under the filter, or (`older`) the page before the oldest one shown. */
async function loadAudit({ older = false } = {}) {
  const no = older ? audit.no : ++audit.no; // a page of an earlier filter is not appended to this one
  const before = older ? audit.oldestId : null;
  const more = document.getElementById("audit-more");
  // One older page at a time: a second tap while it loads would read (and append) the same page again.
  if (older) more.disabled = true;
  let events;
  try {
    events = await api("GET", ENDPOINTS.audit, { query: { ...audit.filter, before_id: before, limit: AUDIT_PAGE } });
  } finally {
    if (older) more.disabled = false;
  }
  if (no !== audit.no) return;
  const body = document.getElementById("audit-rows");
  if (!older) body.replaceChildren();
  body.append(...events.map(auditRow));
  if (events.length) audit.oldestId = events[events.length - 1].id;
  document.getElementById("audit-none").hidden = body.childElementCount > 0;
  more.hidden = events.length < AUDIT_PAGE;
}

async function verifyChain(out) {
  out.replaceChildren(i18nText("common.loading"));
  const r = await api("GET", ENDPOINTS.auditVerify);
  out.className = r.ok ? "chain-ok" : "chain-bad";
  out.replaceChildren(...(r.ok ? [i18nText("admin.chainok"), ` · ${r.events} `, i18nText("admin.events")]
    : [i18nText("admin.chainbroken"), `: #${r.broken_event_id ?? "?"} · ${r.reason}`]));
}

function auditPanel() {
  const object = h("input", { id: "audit-object", maxlength: 200, "data-i18n-placeholder": "admin.objecthint" });
  const action = h("input", { id: "audit-action", maxlength: 100, "data-i18n-placeholder": "admin.actionhint" });
  const result = h("span", { id: "audit-verify-result", role: "status" });
  const verify = h("button", { class: "btn", type: "button", id: "audit-verify", "data-i18n": "admin.verify" });
  verify.addEventListener("click", () => verifyChain(result).catch((err) => {
    result.replaceChildren();
    reportError(err);
  }));
  const form = h("form", { class: "admin-form", id: "audit-filter" }, field("admin.object", object),
    field("admin.action", action), h("button", { class: "btn primary", type: "submit", "data-i18n": "admin.filter" }),
    h("div", { class: "row" }, verify, result));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    audit.filter = { object: object.value.trim(), action: action.value.trim() };
    loadAudit().catch(reportError);
  });
  const more = h("button", { class: "btn", type: "button", id: "audit-more", hidden: true, "data-i18n": "admin.more",
    onclick: () => loadAudit({ older: true }).catch(reportError) });
  return h("section", { class: "panel", id: "audit-panel" }, h("h2", { "data-i18n": "admin.audit" }), form,
    h("div", { class: "panel-body" },
      h("table", { class: "grid" }, th("#", "admin.time", "admin.actor", "admin.action", "admin.object", "admin.details"),
        h("tbody", { id: "audit-rows" })),
      h("p", { class: "empty", id: "audit-none", hidden: true, "data-i18n": "admin.none" }), more));
}

function build() {
  const users = h("section", { class: "panel", id: "users-panel" }, h("h2", { "data-i18n": "admin.users" }),
    addUserForm(),
    h("div", { class: "panel-body" }, h("table", { class: "grid" },
      th("admin.login", "admin.name", "admin.role", "admin.state", "admin.actions"), h("tbody", { id: "user-rows" }))));
  const courtrooms = h("section", { class: "panel", id: "courtrooms-panel" }, h("h2", { "data-i18n": "admin.courtrooms" }),
    h("div", { class: "panel-body" }, h("table", { class: "grid" }, th("admin.courtroom", "admin.court", "admin.profile"),
      h("tbody", { id: "courtroom-rows" }))));
  document.getElementById("main").replaceChildren(h("div", { class: "admin" }, users, courtrooms, auditPanel()));
  applyI18n();
}

if (user) {
  setupHeader("admin.title");
  build();
  // the rooms first: a terminal's row names its courtroom
  loadCourtrooms().then(() => Promise.all([loadUsers(), loadAudit()])).catch(reportError)
    .finally(() => { document.body.dataset.ready = "1"; });
}
