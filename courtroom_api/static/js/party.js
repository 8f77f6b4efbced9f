// Party screen: the evidence of the party's own case only (the API decides what "own" means);
// page through, pinch-zoom and pan, play audio/video with seeking; follows the bench when the
// judge shows an exhibit.
import {
  ENDPOINTS, LiveHearing, api, eventType, items, listHearings, nextHearing, refreshUser, requireLogin,
} from "./api.js";
import { h, params, reportError, setupHeader } from "./common.js";
import { EvidenceViewer, evidenceLabel } from "./evidence.js";
import { applyI18n, t } from "./i18n.js";

const user = requireLogin(["party", "terminal", "judge", "clerk"]);

// While no hearing in progress is followed, the screen looks up its room's current hearing this often (a
// terminal its binding too, then always); without a live stream (the hearing ended) it reads its exhibits
// again as often.
const REFIND_MS = 20_000;

const party = { evidence: [], follow: true, viewer: null, hearing: null, live: null, followTurn: 0 };

/** The "now displayed" state, whether sent flat or nested under `display`. */
function displayOf(event) {
  const d = event.display ?? event.data ?? event;
  const z = d.zoom;
  const region = Array.isArray(z) && z.length === 4 ? { x0: z[0], y0: z[1], x1: z[0] + z[2], y1: z[1] + z[3] } : null;
  return { evidence_id: d.evidence_id ?? null, page: d.page ?? 1, region };
}

function build() {
  const follow = h("button", { class: "btn on", type: "button", id: "follow-bench", "aria-pressed": "true",
    "data-i18n": "ev.follow", onclick: () => setFollow(!party.follow) });
  const binding = user.role === "terminal"
    ? h("span", { class: "who", id: "binding" }, `${user.courtroom_name ?? user.courtroom_id ?? ""} · `,
      h("span", { "data-i18n": `side.${user.side}` }))
    : null;
  document.getElementById("topbar-slot").replaceChildren(follow, binding ?? "");
  const list = h("ul", { class: "list ev-list", id: "party-evidence-list" });
  const view = h("div", { class: "ev-view", id: "party-viewer" });
  const waiting = h("p", { class: "empty", id: "party-waiting", "data-i18n": "party.waiting" });
  const main = h("div", { class: "ev-layout", style: "flex:1" },
    h("section", { class: "panel" }, h("h2", { "data-i18n": "ev.list" }), h("div", { class: "panel-body" }, list)),
    h("section", { class: "panel" }, h("div", { class: "panel-body ev-view" }, waiting, view)));
  document.getElementById("main").replaceChildren(main);
  party.viewer = new EvidenceViewer(view, { onError: loadFailed });
  applyI18n();
}

function setFollow(on) {
  showFollow(on);
  if (on && party.hearing) api("GET", ENDPOINTS.display(party.hearing.id)).then(follow).catch(reportError);
}

/** The "follow the bench" switch as `on` (without asking the bench what it shows). */
function showFollow(on) {
  party.follow = on;
  const btn = document.getElementById("follow-bench");
  btn.classList.toggle("on", on);
  btn.setAttribute("aria-pressed", String(on));
}

function renderList() {
  const list = document.getElementById("party-evidence-list");
  list.replaceChildren(...party.evidence.map((ev) => h("li", {}, h("button", { class: "pick", type: "button",
    dataset: { evidenceId: ev.id }, onclick: () => { setFollow(false); openExhibit(ev).catch(loadFailed); } },
    evidenceLabel(ev)))));
}

/** An exhibit tapped (or a page turned to) failed to load: say so, and list the case's exhibits again, as
 * it may have been sealed or withdrawn meanwhile. The screen stayed as it was, with nothing said. */
function loadFailed(err) {
  reportError(err);
  if (party.hearing) reloadEvidence().catch(reportError);
}

async function openExhibit(ev, view = {}) {
  document.getElementById("party-waiting").hidden = true;
  for (const b of document.querySelectorAll("#party-evidence-list .pick")) {
    b.classList.toggle("on", b.dataset.evidenceId === String(ev.id));
  }
  try {
    await party.viewer.show(ev, view);
  } finally {
    document.getElementById("party-waiting").hidden = Boolean(party.viewer.evidence); // failed: as it was
  }
}

/** The case's exhibits again (one was filed, retitled or sealed during the hearing). */
async function reloadEvidence() {
  party.evidence = items(await api("GET", ENDPOINTS.caseEvidence(party.hearing.case_id)));
  renderList();
  // The exhibit on screen was sealed (it is no longer this screen's to see): it goes.
  const shown = party.viewer.evidence;
  if (shown && !party.evidence.some((e) => String(e.id) === String(shown.id))) {
    party.viewer.clear();
    document.getElementById("party-waiting").hidden = false;
  } else if (shown) {
    party.viewer.refresh(party.evidence.find((e) => String(e.id) === String(shown.id)));
    document.querySelector(`#party-evidence-list .pick[data-evidence-id="${shown.id}"]`)?.classList.add("on");
  }
}

/** Apply the bench's display state; exhibits outside this party's case are never fetched. */
async function follow(state) {
  if (!party.follow || !state) return;
  const turn = ++party.followTurn; // the bench's latest state wins over one still fetching the list
  const d = displayOf(state);
  if (!d.evidence_id) {
    party.viewer.clear();
    document.getElementById("party-waiting").hidden = false;
    return;
  }
  const known = () => party.evidence.find((e) => String(e.id) === String(d.evidence_id));
  if (!known() && party.hearing) await reloadEvidence(); // filed after this screen loaded its list
  if (turn !== party.followTurn || !party.follow) return;
  const ev = known();
  if (ev) await openExhibit(ev, d);
}

/** The hearing this screen belongs to: a terminal's courtroom, or the party's own live hearing. */
async function findHearing() {
  if (pinned()) return api("GET", ENDPOINTS.hearing(pinned()));
  let hearings = await listHearings();
  if (user.role === "terminal" && user.courtroom_id) hearings = hearings.filter((hr) => hr.courtroom_id === user.courtroom_id);
  // The one being recorded (a room holds one at a time), else one in recess, else the next one due.
  return hearings.find((hr) => hr.status === "in_progress") ?? hearings.find((hr) => hr.status === "paused")
    ?? nextHearing(hearings) ?? null;
}

/** ?hearing= names the hearing to follow; without it the screen follows its room's (or party's) current one. */
function pinned() {
  return params().get("hearing");
}

/** Follow `hearing`: its case's exhibits, what its bench shows now and its live stream (the last one's closed). */
async function openHearing(hearing) {
  party.live?.stop();
  party.live = null;
  delete document.body.dataset.live;
  // Another hearing (the room's next one): its parties follow its bench; the switch turned off for
  // the last one stayed off, and the next hearing's exhibits never appeared.
  if (String(party.hearing?.id) !== String(hearing.id)) showFollow(true);
  party.hearing = hearing;
  document.body.dataset.hearingId = hearing.id;
  party.viewer.clear();
  const waiting = document.getElementById("party-waiting");
  waiting.dataset.i18n = "party.waiting";
  waiting.textContent = t("party.waiting");
  waiting.hidden = false;
  party.evidence = items(await api("GET", ENDPOINTS.caseEvidence(hearing.case_id)));
  renderList();
  await follow(await api("GET", ENDPOINTS.display(hearing.id)));
  // Frames of a stream this screen has left (still closing) are not this hearing's.
  const live = new LiveHearing(hearing.id, {
    onEvent: (ev) => { if (party.live === live) onLiveEvent(ev); },
    onResync: () => {
      if (party.live === live) api("GET", ENDPOINTS.display(hearing.id)).then(follow).catch(reportError);
    },
    onState: (s) => {
      if (party.live !== live) return;
      document.body.dataset.live = s;
      // Refused (a terminal moved to another courtroom) or dropped: the room's hearing may be another now.
      if (s === "closed" && !pinned()) refind().catch(() => {}); // (unreachable: the next round tries again)
    },
  });
  party.live = live;
  live.start();
}

function onLiveEvent(ev) {
  const type = eventType(ev);
  if (type === "display") follow(ev).catch(reportError);
  if (type === "evidence") reloadEvidence().catch(reportError);
  if (type === "status") {
    const status = { started: "in_progress", resumed: "in_progress", paused: "paused", ended: "ended" }[(ev.data ?? ev).status];
    if (status) party.hearing = { ...party.hearing, status };
    // The room's next hearing may be on already (if not, the look-up every REFIND_MS finds it).
    if (status === "ended" && !pinned()) refind().catch(reportError);
  }
}

/** Look up the room's (or party's) current hearing again, and follow it when it is another one. */
async function refind() {
  if (party.finding) return;
  party.finding = true;
  try {
    await refreshBinding();
    const next = await findHearing();
    if (next && String(next.id) !== String(party.hearing?.id)) await openHearing(next);
    else if (next) party.hearing = next; // its status as the server has it now
    else if (party.hearing && user.role === "terminal" && party.hearing.courtroom_id !== user.courtroom_id) leaveHearing();
  } finally {
    party.finding = false;
  }
}

/** A terminal moved to a room with no hearing: the last room's hearing is no longer its to show. */
function leaveHearing() {
  party.live?.stop();
  party.live = null;
  delete document.body.dataset.live;
  delete document.body.dataset.hearingId;
  party.hearing = null;
  party.evidence = [];
  renderList();
  party.viewer.clear();
  const waiting = document.getElementById("party-waiting");
  waiting.textContent = t("hearing.none");
  waiting.hidden = false;
}

/**
 * A terminal's binding as the server has it now: an admin may have moved it to another courtroom or seat
 * since it logged in (it went on following the old room). True when it changed.
 */
async function refreshBinding() {
  if (user.role !== "terminal") return false;
  const fresh = await refreshUser();
  const moved = fresh.courtroom_id !== user.courtroom_id || fresh.side !== user.side;
  Object.assign(user, fresh);
  if (moved) {
    const el = document.getElementById("binding");
    el.firstChild.textContent = `${user.courtroom_id ?? ""} · `;
    el.lastChild.dataset.i18n = `side.${user.side}`;
    applyI18n(el);
    await showBinding();
  }
  return moved;
}

/** Now and then: the room's hearing, a terminal's binding, and without a live stream the exhibits (sealed since?). */
async function recheck() {
  if (!pinned()) {
    if (party.hearing?.status !== "in_progress") await refind();
    else if (await refreshBinding()) await refind(); // moved while its hearing is in progress
  }
  // No stream tells this screen of an exhibit sealed (the hearing ended, or its stream is down): it goes.
  if (party.hearing && !["open", "live"].includes(document.body.dataset.live)) await reloadEvidence();
}

/** A terminal shows where it is bound: courtroom name and seat side. */
async function showBinding() {
  const el = document.getElementById("binding");
  if (!el || !user.courtroom_id) return;
  const rooms = await api("GET", ENDPOINTS.courtrooms);
  const room = rooms.find((r) => r.id === user.courtroom_id);
  if (room) el.firstChild.textContent = `${room.name} · `;
}

async function main() {
  if (!user) return;
  setupHeader("party.title");
  build();
  try {
    await showBinding();
    const hearing = await findHearing();
    if (hearing) {
      await openHearing(hearing);
    } else {
      // No hearing yet: the party can still study its own case's evidence.
      const cases = items(await api("GET", ENDPOINTS.cases));
      party.evidence = (await Promise.all(cases.map((c) => api("GET", ENDPOINTS.caseEvidence(c.id))))).flatMap(items);
      renderList();
      const waiting = document.getElementById("party-waiting");
      waiting.dataset.i18n = "hearing.none"; // the language switch said "waiting for the bench" instead
      waiting.textContent = t("hearing.none");
    }
  } catch (err) {
    reportError(err);
  }
  document.body.dataset.ready = "1";
  // Not following a hearing in progress (none yet, in recess, ended): look again now and then, so a
  // courtroom's screen takes up the room's next hearing without anyone reloading it.
  setInterval(() => recheck().catch(() => {}), REFIND_MS); // the next round tries again
}

main();
