// The judge's bench terminal: six panes (evidence, live transcript, dossier, compare, court notes,
// statutes) that can be switched one at a time or tiled.
import { ENDPOINTS, LiveHearing, api, eventType, items, listHearings, nextHearing, requireLogin } from "./api.js";
import { h, hearingControls, hearingOption, params, reportError, setupHeader, toast } from "./common.js";
import { ComparePane, DossierPane, NotesPane, StatutesPane } from "./bench_panes.js";
import { EvidenceViewer, downloadOnly, evidenceLabel } from "./evidence.js";
import { applyI18n, fmt, t } from "./i18n.js";
import { TranscriptView } from "./transcript.js";

const LAYOUT_KEY = "courtroom.bench.layout";

// A courtroom's terminal has no bench powers: its screen is /party. A clerk may work at the bench, but court
// notes are the judges' own (the API refuses anyone else's): no notes pane for a clerk.
const user = requireLogin(["judge", "clerk"]);
const NOTES = user?.role === "judge";
const PANES = ["evidence", "transcript", "dossier", "compare", ...(NOTES ? ["notes"] : []), "statutes"];

const bench = {
  hearing: null,
  caseId: null,
  evidence: [],
  showing: false, // asked for: the exhibit's page and zoom changes go to the parties
  shown: false, // what the server last accepted for `displayOf`: the banner and the button say this
  displayOf: null, // the hearing the banner speaks of
  echoes: [], // {key} of each display state this bench PUT whose `display` event has not come back yet
  displayTurn: 0, // the judge's latest choice or the server's latest state wins over a follow still loading
  following: 0, // opening the exhibit the server says is shown: not sent back
  live: null,
  sendTimer: null,
};

function panel(name, ...body) {
  return h("section", { class: "panel", id: `pane-${name}`, dataset: { pane: name } },
    h("h2", {}, h("span", { "data-i18n": `pane.${name}` }), h("span", { class: "spacer" }),
      h("span", { class: "pane-tools", id: `tools-${name}` })),
    h("div", { class: "panel-body" }, ...body));
}

function buildLayout() {
  const tabs = h("nav", { class: "pane-tabs", role: "tablist" }, PANES.map((name) =>
    h("button", { type: "button", role: "tab", "data-pane": name, "data-i18n": `pane.${name}`,
      onclick: () => selectPane(name) })));
  const panes = h("div", { class: "panes", id: "panes" },
    panel("evidence", h("div", { class: "ev-layout" },
      h("ul", { class: "list ev-list", id: "bench-evidence-list" }),
      h("div", { class: "ev-view", id: "bench-viewer" }))),
    panel("transcript", h("div", { id: "bench-transcript" })),
    panel("dossier", h("div", { id: "dossier" })),
    panel("compare", h("div", { id: "compare", class: "compare" })),
    NOTES ? panel("notes", h("div", { id: "notes" })) : null,
    panel("statutes", h("div", { id: "statutes" })));
  document.getElementById("main").replaceChildren(tabs, panes);
}

function buildTopbar() {
  const slot = document.getElementById("topbar-slot");
  const select = h("select", { id: "hearing-select", "data-i18n-aria": "hearing.pick", onchange: (e) =>
    openHearing(e.target.value) });
  const tile = h("button", { class: "btn", type: "button", id: "layout-tile", "data-i18n": "bench.tile",
    onclick: () => setLayout("tile") });
  const sw = h("button", { class: "btn", type: "button", id: "layout-switch", "data-i18n": "bench.switch",
    onclick: () => setLayout("switch") });
  bench.controls = hearingControls(() => bench.hearing, (hr) => {
    // Answered after the judge opened another hearing: the controls go on showing that one's.
    if (bench.hearing?.id === hr.id) bench.hearing = hr;
    const option = select.querySelector(`option[value="${hr.id}"]`);
    if (option) {
      option.dataset.i18nFmt = hearingOption(hr);
      option.textContent = fmt(option.dataset.i18nFmt);
    }
  });
  slot.replaceChildren(select, tile, sw, ...bench.controls.elements);
}

function setLayout(mode) {
  localStorage.setItem(LAYOUT_KEY, mode);
  const panes = document.getElementById("panes");
  panes.classList.toggle("tile", mode === "tile");
  panes.classList.toggle("switch", mode !== "tile");
  document.getElementById("layout-tile").classList.toggle("on", mode === "tile");
  document.getElementById("layout-switch").classList.toggle("on", mode !== "tile");
}

function selectPane(wanted) {
  const name = document.getElementById(`pane-${wanted}`) ? wanted : "transcript"; // (an old or mistyped ?pane=)
  for (const p of document.querySelectorAll(".panes > .panel")) p.classList.toggle("active", p.dataset.pane === name);
  for (const b of document.querySelectorAll(".pane-tabs button")) b.setAttribute("aria-selected", String(b.dataset.pane === name));
  if (document.getElementById("panes").classList.contains("tile")) {
    document.getElementById(`pane-${name}`).scrollIntoView({ block: "nearest" });
  }
}

// ---- evidence pane: the current exhibit and "show to parties" ----

function buildEvidenceTools(viewer) {
  const show = h("button", { class: "btn primary", type: "button", id: "show-to-parties", "data-i18n": "ev.show",
    onclick: () => setShowing(!bench.showing, viewer) });
  const banner = h("span", { class: "showing-banner", id: "showing-banner", hidden: true, "data-i18n": "ev.showing" });
  document.getElementById("tools-evidence").replaceChildren(banner, show);
}

function setShowing(on, viewer) {
  bench.displayTurn += 1;
  if (on && downloadOnly(viewer.evidence)) {
    toast(t("ev.cannotshow"), "error"); // (the API refuses it: the party screens have nothing to draw)
    on = false;
  }
  bench.showing = on && Boolean(viewer.evidence);
  sendDisplay(bench.showing ? viewer.state() : null, true);
}

function renderShowing() {
  const show = document.getElementById("show-to-parties");
  show.dataset.i18n = bench.shown ? "ev.stop" : "ev.show";
  show.setAttribute("aria-pressed", String(bench.shown));
  document.getElementById("showing-banner").hidden = !bench.shown;
  applyI18n(show.parentElement);
}

/** The banner speaks of hearing `id` now, which shows nothing yet; answers about another are ignored. */
function showingFor(id) {
  bench.displayOf = String(id);
  bench.showing = bench.shown = false;
  bench.echoes = [];
  bench.displayTurn += 1;
  renderShowing();
}

/** A display state as the server sends it back: what `display` events are matched to this bench's PUTs by. */
function displayKey(d) {
  const id = d.evidence_id ?? null;
  return JSON.stringify(id === null ? [null] : [id, d.page ?? null, d.zoom ?? null]);
}

/**
 * The server's display state of the hearing open here: read when it opens (a reload of this page must
 * not forget what the parties see), or changed by another bench terminal or a seal. The banner says it,
 * and the exhibit shown is opened here at its page and region: what the judge turns or zooms next goes
 * on to the parties, as the banner says, and switching hearings stops it.
 */
async function followDisplay(d, viewer) {
  const turn = ++bench.displayTurn;
  const hearingId = bench.displayOf;
  const current = () => turn === bench.displayTurn && hearingId === bench.displayOf;
  clearTimeout(bench.sendTimer); // a zoom of this bench still to be sent would undo it
  bench.showing = bench.shown = Boolean(d.evidence_id);
  renderShowing();
  if (!d.evidence_id) return;
  const known = () => bench.evidence.find((e) => String(e.id) === String(d.evidence_id));
  if (!known()) await loadEvidence(viewer); // filed since this page read the list
  const ev = known();
  if (!current() || !ev) return;
  bench.following += 1;
  try {
    markPick(ev.id);
    await viewer.show(ev, { page: d.page, region: regionOf(d.zoom) });
  } finally {
    bench.following -= 1;
  }
}

/** PUT the "now displayed" state; zoom gestures are coalesced to a few updates a second. */
function sendDisplay(state, now = false) {
  if (!bench.hearing) return;
  clearTimeout(bench.sendTimer);
  const body = state ? { evidence_id: state.evidence_id, page: state.page, zoom: zoomOf(state.region) } : { evidence_id: null };
  const hearingId = bench.hearing.id; // the hearing shown now, even if the judge switches before it is sent
  const current = () => String(hearingId) === bench.displayOf;
  // One PUT at a time, in order: a late zoom update must never overtake "stop showing".
  const echo = { key: displayKey(body) };
  const send = () => {
    bench.sending = (bench.sending ?? Promise.resolve())
      .then(() => {
        if (current()) bench.echoes.push(echo); // its `display` event is this bench's own, not followed
        return api("PUT", ENDPOINTS.display(hearingId), { json: body });
      })
      .then(() => {
        if (current()) bench.shown = body.evidence_id !== null;
      }, (err) => {
        bench.echoes = bench.echoes.filter((e) => e !== echo);
        // Refused (e.g. the exhibit was sealed meanwhile): the parties still see what they saw, and so
        // does the judge; the next toggle asks again from there.
        if (current()) bench.showing = bench.shown;
        reportError(err);
      })
      .finally(() => { if (current()) renderShowing(); });
  };
  if (now) send();
  else bench.sendTimer = setTimeout(send, 150);
}

/** Page region {x0, y0, x1, y1} → the API's zoom [x, y, w, h] (fractions of the page). */
function zoomOf(region) {
  if (!region) return null;
  return [region.x0, region.y0, region.x1 - region.x0, region.y1 - region.y0];
}

/** The API's zoom [x, y, w, h] → page region {x0, y0, x1, y1}. */
function regionOf(zoom) {
  if (!Array.isArray(zoom) || zoom.length !== 4) return null;
  return { x0: zoom[0], y0: zoom[1], x1: zoom[0] + zoom[2], y1: zoom[1] + zoom[3] };
}

function renderEvidenceList(viewer) {
  const list = document.getElementById("bench-evidence-list");
  list.replaceChildren(...bench.evidence.map((ev) => h("li", {},
    h("button", { class: "pick", type: "button", dataset: { evidenceId: ev.id }, onclick: () => openExhibit(ev, viewer) },
      evidenceLabel(ev), ev.sealed ? ` 🔒` : ""))));
}

/** The case's exhibits, read again. */
async function loadEvidence(viewer) {
  bench.evidence = items(await api("GET", ENDPOINTS.caseEvidence(bench.caseId)));
  renderEvidenceList(viewer);
  if (viewer.evidence) markPick(viewer.evidence.id);
}

function markPick(id) {
  for (const b of document.querySelectorAll("#bench-evidence-list .pick")) {
    b.classList.toggle("on", b.dataset.evidenceId === String(id));
  }
}

async function openExhibit(ev, viewer) {
  markPick(ev.id);
  selectPane("evidence");
  await viewer.show(ev).catch(reportError); // e.g. sealed by another terminal since the list was read
}

// ---- hearing selection and the live transcript ----

async function loadHearings() {
  const select = document.getElementById("hearing-select");
  const hearings = await listHearings();
  select.replaceChildren(...hearings.map((hr) => h("option", { value: hr.id, "data-i18n-fmt": hearingOption(hr) },
    fmt(hearingOption(hr)))));
  if (!hearings.length) {
    select.append(h("option", { value: "", "data-i18n": "hearing.none" }, t("hearing.none")));
    return null;
  }
  const wanted = params().get("hearing");
  const live = hearings.find((hr) => hr.status === "in_progress" || hr.status === "paused");
  const pick = hearings.find((hr) => String(hr.id) === wanted) ?? live ?? nextHearing(hearings);
  select.value = pick.id;
  return pick;
}

async function openHearing(id, ctx = bench.ctx) {
  if (!id) return;
  // The address names the hearing open here: a reload, or logging in again after the session ended, comes
  // back to it, not to the court's first live hearing (another room's, whose parties "show" would reach).
  const url = new URL(location.href);
  url.searchParams.set("hearing", String(id));
  history.replaceState(history.state, "", url);
  // Another hearing's exhibit is not left on its party screens, nor in this viewer for the next one.
  if (bench.showing) setShowing(false, ctx.viewer);
  showingFor(id);
  ctx.viewer.clear();
  bench.live?.stop();
  // The stream is opened first: the hearing and its transcript are read once the stream's position is
  // known (and again after a reset), and what is said meanwhile is applied after them (LiveHearing).
  const transcript = ctx.transcript;
  transcript.setHearing(id);
  const live = new LiveHearing(id, {
    onEvent: (ev) => onLiveEvent(ev, ctx),
    onLoad: async () => {
      const [hearing, segments, display] = await Promise.all([api("GET", ENDPOINTS.hearing(id)),
        api("GET", ENDPOINTS.segments(id)), api("GET", ENDPOINTS.display(id))]);
      if (bench.live !== live) return; // another hearing was picked meanwhile
      bench.hearing = hearing;
      bench.caseId = hearing.case_id;
      bench.controls.refresh();
      transcript.load(segments);
      await loadEvidence(ctx.viewer);
      if (bench.live !== live) return;
      followDisplay(display, ctx.viewer).catch(reportError); // (its page image is not waited for)
    },
    onState: (s) => { if (bench.live === live) document.body.dataset.live = s; },
    onError: reportError,
  });
  bench.live = live.start();
  await live.loaded;
  if (bench.live !== live) return;
  document.body.dataset.hearingId = id;
  await Promise.all([ctx.dossier.open(bench.caseId, bench.hearing), ctx.notes?.open(bench.caseId, id),
    ctx.compare.open(bench.caseId, bench.evidence)]);
}

function onLiveEvent(ev, ctx) {
  if (ctx.transcript.apply(ev)) return;
  const status = eventType(ev) === "status" ? (ev.data ?? ev).status : null;
  if (status && bench.hearing) {
    // The hearing was started or ended elsewhere (the clerk's console): follow its state.
    const next = { started: "in_progress", resumed: "in_progress", paused: "paused", ended: "ended" }[status];
    if (next) {
      bench.hearing = { ...bench.hearing, status: next };
      bench.controls.refresh();
      // An ended hearing shows nothing on its screens (the server blanks it too): the banner goes.
      if (next === "ended" && String(bench.hearing.id) === bench.displayOf) {
        followDisplay({ evidence_id: null }, ctx.viewer).catch(reportError);
      }
    }
  }
  // An exhibit was filed (or retitled, sealed) while the bench is open: its list again.
  if (eventType(ev) === "evidence" && bench.caseId) loadEvidence(ctx.viewer).catch(reportError);
  // The display changed: this bench's own PUT coming back (with any whose event was lost before it), or
  // another bench terminal of the hearing (or a seal) changed it: follow that.
  if (eventType(ev) === "display") {
    const d = ev.data ?? ev;
    const own = bench.echoes.findIndex((e) => e.key === displayKey(d));
    if (own >= 0) bench.echoes.splice(0, own + 1);
    else followDisplay(d, ctx.viewer).catch(reportError);
  }
}

async function main() {
  if (!user) return;
  setupHeader("bench.title");
  buildTopbar();
  buildLayout();
  const viewer = new EvidenceViewer(document.getElementById("bench-viewer"), {
    onView: (state) => {
      if (!bench.showing || bench.following) return;
      if (!downloadOnly(viewer.evidence)) return sendDisplay(state);
      // A Word file opened while showing: showing stops (the parties were left on the last exhibit
      // while the banner said they saw this one).
      toast(t("ev.cannotshow"), "error");
      setShowing(false, viewer);
    },
  });
  buildEvidenceTools(viewer);
  // bench.hearing follows the hearing's status (live events, 开庭/闭庭): a line is replayed from the
  // recording being made until the hearing ends.
  const transcript = new TranscriptView(document.getElementById("bench-transcript"),
    { currentHearing: () => bench.hearing });
  const ctx = {
    viewer,
    transcript,
    dossier: new DossierPane(document.getElementById("dossier"), { openExhibit: (ev) => openExhibit(ev, viewer) }),
    compare: new ComparePane(document.getElementById("compare")),
    notes: NOTES
      ? new NotesPane(document.getElementById("notes"), { draftKey: `bench.notedrafts.${user.id ?? user.login ?? ""}` })
      : null,
    statutes: new StatutesPane(document.getElementById("statutes")),
  };
  bench.ctx = ctx;
  setLayout(localStorage.getItem(LAYOUT_KEY) === "tile" ? "tile" : "switch");
  selectPane(params().get("pane") ?? "transcript");
  applyI18n();
  try {
    const hearing = await loadHearings();
    if (hearing) await openHearing(hearing.id, ctx);
  } catch (err) {
    reportError(err);
  }
  document.body.dataset.ready = "1";
}

main();
