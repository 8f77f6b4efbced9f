// Clerk console: many courtrooms at once (level meters, alarms, the latest lines), and for the
// selected one the full live transcript with inline correction, markup, sealing and sign-off.
import { ENDPOINTS, LiveHearing, api, byTime, downloadFile, eventType, listHearings, requireLogin } from "./api.js";
import { fmtDate, h, hearingControls, hearingOption, params, reportError, setupHeader, toast } from "./common.js";
import { applyI18n, fmt, roleLabel, t } from "./i18n.js";
import { TranscriptView, segmentOf } from "./transcript.js";

const user = requireLogin(["clerk", "judge"]);
const LOW_CONFIDENCE = 0.5;
// A card shows a room's last 3 lines and raises its speech alarms from its latest ones: those are read,
// not the whole transcript (a 6-hour room's is 1.4 MB, and every card read its own at every reset).
const CARD_LINES = 20;
const LIVE = new Set(["in_progress", "paused"]); // the hearings whose rooms are followed live
// A hearing started elsewhere (the bench) is noticed within this: scheduled ones are not followed live
// (a socket each: 200 scheduled hearings' made the console take 20 s to load).
const STARTS_POLL_MS = 5_000;
// The scheduled hearings are read this often: a card each for today's (one added, moved to another courtroom
// or retitled since shows so), none for one cancelled or put off to another day.
const SCHEDULE_POLL_MS = 30_000;
// The picker lists the court's hearings a page at a time, as the API ranks them (live, today's, then the
// newest first); "older" adds the next page. ?page_size= makes the page smaller than the API's 500.
const HEARINGS_MAX_LIMIT = 2000; // the most GET /api/hearings lists at a time
const PICKER_PAGE = Math.min(HEARINGS_MAX_LIMIT, Math.max(1, Math.trunc(Number(params().get("page_size"))) || 500));
// Corrections being typed, kept as they are typed in this tab (per user): a session that ends (its token
// expired or revoked) leaves for the login page at once, and the console reopens them after the login.
const DRAFTS_KEY = `clerk.drafts.${user?.id ?? user?.login ?? ""}`;
const rooms = new Map(); // hearing id → room state
const courtroomNames = new Map(); // courtroom id → name
const picker = { hearings: new Map(), loaded: 0, select: null, more: null }; // hearing id → hearing; pages read
let selected = null;
let detail = null;
let controls = null;

/** Meter frames: per-channel arrays (dBFS: peak_dbfs / rms_dbfs; or linear peak / rms) or a list. */
function levelsOf(ev, seats = []) {
  const dbfs = ev.peak_dbfs ?? ev.rms_dbfs;
  if (Array.isArray(dbfs)) {
    return dbfs.map((db, i) => ({ key: String(seats[i] ?? `ch${i}`), db: Number(db), clipping: Number(db) > -0.5 }));
  }
  if (Array.isArray(ev.peak) || Array.isArray(ev.rms)) {
    const values = ev.peak ?? ev.rms;
    return values.map((v, i) => {
      const db = 20 * Math.log10(Math.max(1e-6, Number(v)));
      return { key: String(ev.seats?.[i] ?? `ch${i}`), db, clipping: db > -0.5 };
    });
  }
  const list = ev.levels ?? ev.meters ?? ev.channels ?? [ev];
  return list.map((m) => {
    let db = m.peak_db ?? m.rms_db ?? m.dbfs;
    if (db === undefined && m.peak !== undefined) db = 20 * Math.log10(Math.max(1e-6, m.peak));
    if (db === undefined && m.rms !== undefined) db = 20 * Math.log10(Math.max(1e-6, m.rms));
    return { key: String(m.seat ?? m.channel ?? "?"), db: Number(db ?? -90), clipping: Boolean(m.clipping) || db > -0.5 };
  });
}

function roomCard(hr) {
  const card = h("article", { class: "room", tabindex: "0", dataset: { hearingId: hr.id },
    onclick: () => selectRoom(hr.id) },
    h("h3", {}, h("span", { class: "badge role-judge" }, hr.courtroom_name || `#${hr.courtroom_id ?? ""}`),
      h("span", { class: "tag", "data-i18n": `status.${hr.status}` }, t(`status.${hr.status}`))),
    h("div", { class: "case-no" }, h("span", { class: "case-number" }, hr.case_number ?? hr.case_id), " ",
      h("span", { class: "hearing-title" }, hr.title ?? "")),
    h("div", { class: "meters", "data-i18n-aria": "clerk.meters" }),
    h("ul", { class: "alarms" }),
    h("div", { class: "mini" }));
  return card;
}

function setMeter(room, level) {
  const box = room.card.querySelector(".meters");
  let m = room.meters.get(level.key);
  if (!m) {
    m = h("div", { class: "meter", dataset: { seat: level.key } }, h("span", {}, level.key),
      h("div", { class: "bar" }, h("div", { class: "fill" })));
    room.meters.set(level.key, m);
    box.append(m);
  }
  m.querySelector(".fill").style.width = `${Math.max(0, Math.min(100, ((level.db + 60) / 60) * 100))}%`;
  m.classList.toggle("hot", level.clipping);
}

function raise(room, kind, where, text = "") {
  const key = `${kind}:${where}`;
  if (room.alarms.has(key)) return;
  const label = t(`alarm.${kind}`);
  const name = label === `alarm.${kind}` ? kind : label;
  // Room-wide alarms (capture, transcription) name no seat.
  const li = h("li", { dataset: { alarm: kind } }, where ? `${name} · ${where}` : name, text ? ` · ${text}` : "");
  room.alarms.set(key, li);
  room.card.querySelector(".alarms").prepend(li);
  room.card.classList.add("alarm");
  if (kind === "dead_channel") room.meters.get(where)?.classList.add("dead");
}

function clearAlarm(room, kind, where) {
  const key = `${kind}:${where}`;
  room.alarms.get(key)?.remove();
  room.alarms.delete(key);
  room.card.classList.toggle("alarm", room.alarms.size > 0);
  if (kind === "dead_channel") room.meters.get(where)?.classList.remove("dead");
}

function setSeats(room, seats) {
  room.seats = [];
  for (const s of seats) room.seats[s.channel] = s.seat;
}

function onEvent(room, ev) {
  const type = eventType(ev);
  const data = ev.data ?? ev;
  if (type === "status") {
    if (Array.isArray(data.seats)) setSeats(room, data.seats);
    const hearingStatus = { started: "in_progress", resumed: "in_progress", paused: "paused", ended: "ended" }[data.status];
    if (hearingStatus) hearingNow(room, hearingStatus);
    if (selected === room.id && detail) detail.view.apply(ev); // (its provisional lines go in a recess)
    return;
  }
  if (type === "meter" || type === "level" || type === "levels") {
    for (const lv of levelsOf(data, room.seats)) setMeter(room, lv);
    return;
  }
  if (type === "alarm" || type === "alarm_cleared") {
    const kind = alarmKind(data.kind ?? data.alarm ?? data.name);
    const where = String(data.seat ?? data.channel ?? "");
    // A report that ends others' alarms (writing resumed ends a full disk's) names them in `clears`.
    for (const cleared of data.clears ?? []) clearAlarm(room, alarmKind(cleared), where);
    if (type === "alarm_cleared" || data.active === false || data.cleared) clearAlarm(room, kind, where);
    else raise(room, kind, where, data.message ?? "");
    return;
  }
  if (type === "final") noteFinal(room, segmentOf(ev), ev.seq);
  if (type === "revised") noteRevised(room, segmentOf(ev));
  if (type === "filed") noteFiled(room, data);
  if (selected === room.id && detail) detail.view.apply(ev);
}

/**
 * The speech alarms a line raises: no speaker named, or heard with low confidence and not gone over since
 * (a correction of its words or of who said it marks it corrected).
 */
function speechAlarms(seg) {
  const kinds = [];
  if (!seg.role) kinds.push("unattributed");
  if (seg.confidence !== null && seg.confidence < LOW_CONFIDENCE && seg.status !== "corrected") kinds.push("low_confidence");
  return kinds;
}

/** A line's key on the card: its segment id, or `seq:N` (its live event's) until the dossier files it. */
function lineKey(seg, seq) {
  return seg.id !== null ? String(seg.id) : `seq:${seq}`;
}

function miniText(seg) {
  return `${seg.participant ?? roleLabel(seg.role)}: ${seg.text}`;
}

/** A final line: raise speech alarms, show it in the room's card. */
function noteFinal(room, seg, seq = null) {
  const key = lineKey(seg, seq);
  const where = fmtWhere(seg);
  for (const kind of speechAlarms(seg)) {
    const alarm = `${kind}:${where}`;
    raise(room, kind, where, seg.text.slice(0, 24));
    if (!room.speech.has(alarm)) room.speech.set(alarm, { kind, where, lines: new Set() });
    room.speech.get(alarm).lines.add(key);
  }
  const mini = room.card.querySelector(".mini");
  const shown = [...mini.children].find((el) => el.dataset.line === key);
  if (shown) shown.textContent = miniText(seg); // the same line again (a reload's read, a late event)
  else mini.prepend(h("div", { dataset: { line: key } }, miniText(seg)));
  while (mini.childElementCount > 3) mini.lastElementChild.remove();
}

/**
 * A line corrected (its text, who said it): redrawn on the card if shown there, not shown as a new one;
 * the speech alarms it raised end once the correction resolves them and no other line holds them.
 */
function noteRevised(room, seg) {
  const key = lineKey(seg, null);
  const shown = [...room.card.querySelector(".mini").children].find((el) => el.dataset.line === key);
  if (shown) shown.textContent = miniText(seg);
  const still = speechAlarms(seg);
  for (const [alarm, held] of room.speech) {
    if (still.includes(held.kind) || !held.lines.delete(key) || held.lines.size) continue;
    room.speech.delete(alarm);
    clearAlarm(room, held.kind, held.where);
  }
}

/** A final held back reached the dossier: its card line and speech alarms are known by its id from now. */
function noteFiled(room, { seq, segment_id: id }) {
  const was = `seq:${seq}`;
  for (const el of room.card.querySelectorAll(".mini > div")) if (el.dataset.line === was) el.dataset.line = String(id);
  for (const held of room.speech.values()) if (held.lines.delete(was)) held.lines.add(String(id));
}

/** Every alarm off the card (a reset: the alarms in force come again after it, its lines are read again). */
function clearAlarms(room) {
  for (const key of [...room.alarms.keys()]) {
    const at = key.indexOf(":");
    clearAlarm(room, key.slice(0, at), key.slice(at + 1));
  }
  room.speech.clear();
}

/** Alarm names from the capture and live pipeline (dead_channel, clipping, hum, dc_offset, …). */
function alarmKind(name) {
  const n = String(name ?? "unknown");
  return n === "dead" ? "dead_channel" : n;
}

function fmtWhere(seg) {
  return String(seg.seat ?? seg.channel ?? "?");
}

// ---- the selected courtroom: correction, markup, sealing, sign-off ----

function lineActions(seg, line) {
  const act = (key, fn) => h("button", { type: "button", "data-i18n": key, dataset: { action: key },
    onclick: (e) => { e.stopPropagation(); fn().catch(reportError); } }, t(key));
  // A final the dossier has not taken yet (a "filed" event redraws it with its id) has nothing to correct.
  if (seg.id === null) return [act("tr.replay", async () => detail.view.replay(seg))];
  return [
    act("tr.replay", async () => detail.view.replay(seg)),
    act("tr.edit", async () => editLine(seg, line)),
    act("tr.speaker", async () => correctSpeaker(seg, line)),
    act("tr.highlight", async () => annotate(seg, "highlight", line)),
    act("tr.note", async () => annotate(seg, "note", line)),
    act("tr.bookmark", async () => annotate(seg, "bookmark", line)),
    act(seg.sealed ? "tr.unseal" : "tr.seal", async () => seal(seg, line)),
  ];
}

/** A correction of `seg` typed under its line (`draft`: one typed before the session ended, reopened). */
function editLine(seg, line, draft = null) {
  if (line.querySelector(".edit-box")) return Promise.resolve();
  const hearingId = detail.hearingId;
  let revision = draft?.revision ?? seg.revision; // the text this correction is made on
  const text = h("textarea", { class: "edit-text", rows: 2 });
  text.value = draft?.text ?? seg.text;
  const reason = h("input", { class: "edit-reason", "data-i18n-placeholder": "tr.reason", placeholder: t("tr.reason") });
  reason.value = draft?.reason ?? "";
  const keep = () => keepDraft(seg.id, { hearing: hearingId, text: text.value, reason: reason.value, revision });
  text.addEventListener("input", keep);
  reason.addEventListener("input", keep);
  const changed = h("p", { class: "edit-changed", hidden: true });
  const box = h("div", { class: "edit-box", onclick: (e) => e.stopPropagation() }, changed, text, reason,
    h("div", { class: "row" },
      h("button", { class: "btn", type: "button", "data-i18n": "tr.replay", onclick: () => detail.view.replay(seg) }, t("tr.replay")),
      h("button", { class: "btn primary", type: "button", "data-i18n": "tr.save", dataset: { action: "save" }, onclick: async () => {
        if (!reason.value.trim()) {
          reason.focus();
          toast(t("tr.reason"), "error");
          return;
        }
        const { view, hearingId } = detail; // the room the line is in, whichever is open once saved
        try {
          const updated = await api("PATCH", ENDPOINTS.segment(seg.id),
            { json: { text: text.value, reason: reason.value, revision } });
          box.remove();
          keepDraft(seg.id, null);
          redraw(view, segmentOf(updated ?? { ...seg, text: text.value }));
          toast(t("tr.corrected"));
          await refreshRecordState(hearingId); // a change voids a signature made before it
        } catch (err) {
          if (err.status !== 409) return reportError(err);
          // Corrected by someone else since this box opened: show their text, keep what was typed here.
          toast(t("tr.notsaved"), "error");
          redraw(view, segmentOf(await api("GET", ENDPOINTS.segment(seg.id))));
        }
      } }, t("tr.save")),
      h("button", { class: "btn", type: "button", "data-i18n": "tr.cancel", onclick: () => {
        box.remove();
        keepDraft(seg.id, null);
      } }, t("tr.cancel"))));
  // The line was drawn again (a live correction by someone else, or the current text after a 409):
  // the next save is made on that text, once it has been shown here.
  box.addEventListener("line-redrawn", ({ detail: now }) => {
    if (now.revision === revision) return;
    revision = now.revision;
    changed.replaceChildren(t("tr.changed"), " ", h("q", {}, now.text));
    changed.hidden = false;
  });
  line.append(box);
  // A draft made on an earlier text of the line: that text is shown as changed since, as above.
  if (draft) box.dispatchEvent(new CustomEvent("line-redrawn", { detail: seg }));
  text.focus();
  return Promise.resolve();
}

function drafts() {
  try {
    return JSON.parse(sessionStorage.getItem(DRAFTS_KEY) ?? "{}") ?? {};
  } catch {
    return {};
  }
}

/** A correction as typed so far (segment id → {hearing, text, reason, revision}); null: saved or cancelled. */
function keepDraft(segmentId, draft) {
  const all = drafts();
  if (draft) all[segmentId] = draft;
  else delete all[segmentId];
  sessionStorage.setItem(DRAFTS_KEY, JSON.stringify(all));
}

/** The corrections of hearing `id` still being typed when the session ended, open again under their lines. */
function reopenDrafts(id, view) {
  for (const [segmentId, draft] of Object.entries(drafts())) {
    const line = view.lines.get(segmentId);
    if (draft?.hearing === id && line && !line.querySelector(":scope > .edit-box")) editLine(line.segment, line, draft);
  }
}

// Who may be named as a line's speaker without a participant (an unnamed witness, an unknown voice).
const SPEAKER_ROLES = ["presiding_judge", "judge", "peoples_assessor", "clerk", "plaintiff", "defendant",
  "third_party", "agent", "prosecutor", "witness", "expert", "interpreter"];

/** Who said the line: a participant of the case or a role alone, with a reason (a revision, audited). */
async function correctSpeaker(seg, line) {
  if (line.querySelector(".speaker-box")) return;
  const people = await api("GET", ENDPOINTS.caseParticipants(detail.hearing.case_id));
  const pick = h("select", { class: "speaker-pick" },
    ...people.map((p) => h("option", { value: `p:${p.id}` }, `${roleLabel(p.role)} ${p.name}`)),
    ...SPEAKER_ROLES.map((r) => h("option", { value: `r:${r}` }, roleLabel(r))));
  pick.value = seg.participantId !== null ? `p:${seg.participantId}` : `r:${seg.role}`;
  const reason = h("input", { class: "edit-reason", "data-i18n-placeholder": "tr.speakerreason",
    placeholder: t("tr.speakerreason") });
  const box = h("div", { class: "edit-box speaker-box", onclick: (e) => e.stopPropagation() }, pick, reason,
    h("div", { class: "row" },
      h("button", { class: "btn primary", type: "button", "data-i18n": "tr.save", dataset: { action: "save" }, onclick: async () => {
        if (!reason.value.trim()) {
          reason.focus();
          toast(t("tr.speakerreason"), "error");
          return;
        }
        const [kind, value] = pick.value.split(":");
        const json = kind === "p" ? { participant_id: Number(value) } : { participant_id: null, role: value };
        const { view, hearingId } = detail;
        try {
          const updated = await api("PUT", ENDPOINTS.segmentSpeaker(seg.id),
            { json: { ...json, reason: reason.value, revision: seg.revision } });
          box.remove();
          redraw(view, segmentOf(updated));
          toast(t("tr.speakerchanged"));
          await refreshRecordState(hearingId); // a change voids a signature made before it
        } catch (err) {
          if (err.status !== 409) return reportError(err);
          toast(t("tr.notsaved"), "error"); // changed by someone else meanwhile: shown, chosen again
          box.remove();
          redraw(view, segmentOf(await api("GET", ENDPOINTS.segment(seg.id))));
        }
      } }, t("tr.save")),
      h("button", { class: "btn", type: "button", "data-i18n": "tr.cancel", onclick: () => box.remove() }, t("tr.cancel"))));
  line.append(box);
  pick.focus();
}

/** An inline one-field form under a line (touch-friendly; no browser prompt dialogs); `messageKey`: a
 * line above the field that says what is asked, `okKey`: what its button does. Null: cancelled, or the box
 * taken away (dismissAsk: another box asked there, another room opened). */
function ask(line, placeholderKey, { messageKey = null, okKey = "tr.save" } = {}) {
  dismissAsk(line);
  return new Promise((resolve) => {
    const input = h("input", { class: "ask-text", placeholder: t(placeholderKey), "data-i18n-placeholder": placeholderKey });
    const done = (value) => { box.remove(); resolve(value); };
    const box = h("div", { class: "edit-box ask-box", onclick: (e) => e.stopPropagation() },
      messageKey ? h("p", { class: "ask-message", "data-i18n": messageKey }, t(messageKey)) : "", input,
      h("div", { class: "row" },
        h("button", { class: "btn primary", type: "button", dataset: { action: "ok" }, "data-i18n": okKey,
          onclick: () => input.value.trim() && done(input.value.trim()) }, t(okKey)),
        h("button", { class: "btn", type: "button", "data-i18n": "tr.cancel", onclick: () => done(null) }, t("tr.cancel"))));
    box.dismiss = () => done(null);
    line.append(box);
    input.focus();
  });
}

/** The box `ask` shows in `where`, if any, taken away: its question answered null. */
function dismissAsk(where) {
  where.querySelector(".ask-box")?.dismiss();
}

async function annotate(seg, kind, line) {
  let text = "";
  if (kind === "note") {
    text = await ask(line, "tr.note");
    if (!text) return;
  }
  await api("POST", ENDPOINTS.annotations(detail.hearingId), { json: { segment_id: seg.id, kind, text } });
  if (kind === "highlight") line.classList.add("hl");
  if (kind === "bookmark") line.classList.add("bookmarked");
  if (kind === "note") showAnnotations([{ kind, text, segment_id: seg.id }]);
  toast(`${t(`tr.${kind}`)} ✓`);
}

async function seal(seg, line) {
  const reason = await ask(line, "tr.sealreason");
  if (!reason) return;
  const { view, hearingId } = detail;
  await api("POST", ENDPOINTS.segmentSeal(seg.id), { json: { sealed: !seg.sealed, reason } });
  redraw(view, { ...seg, sealed: !seg.sealed });
  await refreshRecordState(hearingId);
}

/**
 * A line changed here, drawn again in the view it was changed in, if that is still the one open: the
 * views share one list element, and the answer may come after the clerk opened another room (whose
 * transcript, read afresh when the room is opened again, has the change).
 */
function redraw(view, seg) {
  if (detail?.view === view) view.upsert(seg, false);
}

async function signOff() {
  const hearingId = detail.hearingId;
  try {
    signed(hearingId, await api("POST", ENDPOINTS.signoff(hearingId), { json: { note: "" } }));
  } catch (err) {
    if (err.status !== 409 || !(await signWithoutRecording(hearingId))) throw err;
  }
}

/**
 * After a refused sign-off: a recording that can never be filed (its directory lost) held it up for
 * good, so the record is offered to be signed without it, saying why (audited). Not one still to be
 * filed (its filing would change the signed record), nor in a recess; nor once another room is open (the
 * refusal is reported as it is). False: nothing offered.
 */
async function signWithoutRecording(hearingId) {
  if (detail?.hearingId !== hearingId) return false;
  const state = await api("GET", ENDPOINTS.record(hearingId));
  if (detail?.hearingId !== hearingId) return false; // another room was picked meanwhile
  showRecordState(hearingId, state);
  if (!state.recording_lost || detail.hearing?.status !== "ended") return false;
  const note = await ask(document.getElementById("record-bar"), "tr.withoutrecordingreason",
    { messageKey: "tr.recordinglost", okKey: "tr.signwithoutrecording" });
  // (the record bar is the open room's: a box answered is this hearing's only while it is still open)
  if (note && detail?.hearingId === hearingId) signed(hearingId, await api("POST", ENDPOINTS.signoff(hearingId), { json: { without_recording: true, note } }));
  return true;
}

function signed(hearingId, state) {
  toast(state?.locked ? t("tr.signed") : `${t("tr.signoff")} ✓`);
  showRecordState(hearingId, state);
}

async function unlock() {
  const hearingId = detail.hearingId;
  const reason = await ask(document.getElementById("record-bar"), "tr.unlockreason");
  if (!reason || detail?.hearingId !== hearingId) return; // (another room opened: its box went with it)
  showRecordState(hearingId, await api("POST", ENDPOINTS.unlock(hearingId), { json: { reason } }));
}

async function refreshRecordState(hearingId) {
  showRecordState(hearingId, await api("GET", ENDPOINTS.record(hearingId)));
}

/** Who signed, whether the record is locked; sign-off and unlock offered to whom they apply. Shown only
 * while `hearingId` is the open room's: an answer that comes after the clerk moved on is another room's. */
function showRecordState(hearingId, state) {
  if (detail?.hearingId !== hearingId) return;
  const signed = state.signatures ?? [];
  const label = document.getElementById("record-state");
  label.replaceChildren(state.locked ? h("span", { class: "tag sealed", "data-i18n": "tr.signed" }, t("tr.signed"))
    : signed.length ? h("span", { class: "tag" }, `${t("tr.signedby")}: ${signed.map(roleLabel).join("、")}`) : "",
    // The record's sha256 kept with the signatures no longer matches: changed behind the API.
    state.unchanged_since_signed === false
      ? h("span", { class: "tag alarm", id: "record-changed", "data-i18n": "tr.changedsincesigned" }, t("tr.changedsincesigned")) : "");
  document.getElementById("record-bar").dataset.locked = String(Boolean(state.locked));
  document.body.dataset.locked = String(Boolean(state.locked)); // hides correction and sealing
  document.getElementById("signoff").disabled = signed.includes(user.role);
  document.getElementById("unlock").hidden = !(user.role === "judge" && signed.length);
}

/** Download the transcript (court record as PDF/DOCX, or WebVTT) with the bearer token. */
async function download(format) {
  const hearingId = detail.hearingId;
  await downloadFile(ENDPOINTS.exportTranscript(hearingId, format), `hearing-${hearingId}.${format}`);
}

/** Highlights, notes and bookmarks already made show on their lines. */
function showAnnotations(annotations) {
  for (const a of annotations) {
    const line = a.segment_id ? document.getElementById(`seg-${a.segment_id}`) : null;
    if (!line) continue;
    if (a.kind === "highlight") line.classList.add("hl");
    if (a.kind === "bookmark") line.classList.add("bookmarked");
    if (a.kind === "note" && a.text) line.querySelector(".text").after(h("span", { class: "tag note-tag" }, `✎ ${a.text}`));
  }
}

async function selectRoom(id) {
  selected = id;
  markChosen(id);
  dismissAsk(document.getElementById("record-bar")); // (a reason asked for the room left: unlock, sign-off)
  for (const card of document.querySelectorAll(".room")) card.classList.toggle("active", card.dataset.hearingId === String(id));
  const body = document.getElementById("clerk-transcript");
  const view = new TranscriptView(body, { hearingId: id, actions: lineActions, numbered: true,
    currentHearing: () => (detail?.view === view ? detail.hearing : null) }); // (its status follows live events)
  detail = { hearingId: id, view };
  controls.refresh(); // the last room's buttons go until this one's hearing is read
  document.getElementById("clerk-title").textContent = rooms.get(id)?.label ?? `#${id}`;
  // A room's live lines that arrive while its transcript is read are applied after it, not lost.
  const live = rooms.get(id)?.live;
  await (live ? live.sync(() => loadDetail(id, view)) : loadDetail(id, view));
}

/** The selected hearing's transcript, marks and record state into `view` (also again after a reset). */
async function loadDetail(id, view) {
  const [segments, annotations, state, hearing] = await Promise.all([api("GET", ENDPOINTS.segments(id)),
    api("GET", ENDPOINTS.annotations(id)), api("GET", ENDPOINTS.record(id)), api("GET", ENDPOINTS.hearing(id))]);
  if (detail?.view !== view) return; // another room was picked meanwhile
  detail.hearing = hearing;
  controls.refresh();
  view.load(segments);
  reopenDrafts(id, view);
  showAnnotations(annotations);
  showRecordState(id, state);
}

/** The open hearing in the address (logging in again after the session ended comes back to it) and the picker. */
function markChosen(id) {
  const url = new URL(location.href);
  url.searchParams.set("hearing", String(id));
  history.replaceState(history.state, "", url);
  if (picker.select) picker.select.value = picker.hearings.has(id) ? String(id) : "";
}

/** Any hearing (also ended ones, for corrections before sign-off) can be opened for editing: the picker
 * holds the court's hearings a page at a time, and "older" (shown while there may be more) adds the next. */
function buildPicker() {
  const select = h("select", { id: "hearing-select", "data-i18n-aria": "hearing.pick" });
  select.addEventListener("change", () => {
    const hr = picker.hearings.get(Number(select.value));
    if (!hr) return;
    picked(hr);
    selectRoom(hr.id).catch(reportError);
  });
  const more = h("button", { class: "btn", type: "button", id: "hearing-more", "data-i18n": "clerk.older", hidden: true,
    onclick: () => morePicker().catch(reportError) }, t("clerk.older"));
  Object.assign(picker, { select, more });
  toPicker([]);
  document.getElementById("topbar-slot").replaceChildren(select, more);
}

/**
 * The next page of the court's hearings into the picker, with the pages read so far read again: the ranking
 * moves between reads (a hearing that ends goes from the top to its time's place, and the hearings after it
 * move up a place), and the page read on from where the last one ended skipped the one moved past it.
 */
async function morePicker() {
  picker.more.disabled = true;
  try {
    const want = picker.loaded + PICKER_PAGE;
    const read = [];
    while (read.length < want) {
      const limit = Math.min(HEARINGS_MAX_LIMIT, want - read.length);
      const page = await listHearings({ limit, offset: read.length });
      read.push(...page);
      if (page.length < limit) break;
    }
    picker.loaded = read.length;
    picker.more.hidden = read.length < want;
    toPicker(read);
  } finally {
    picker.more.disabled = false;
  }
}

/** Hearings into the picker (each once, as last read), in time order; the open one stays chosen. */
function toPicker(hearings) {
  let changed = !picker.select.options.length;
  for (const hr of hearings) {
    const was = picker.hearings.get(hr.id);
    const now = { ...was, ...hr }; // (a hearing read alone has no case number: the listed one's is kept)
    changed ||= !was || hearingOption(was) !== hearingOption(now);
    picker.hearings.set(hr.id, now);
  }
  if (!changed) return; // (the polls find the same hearings again and again: an open list stays as it is)
  picker.select.replaceChildren(h("option", { value: "", "data-i18n": "hearing.pick" }, t("hearing.pick")),
    ...[...picker.hearings.values()].sort(byTime)
      .map((hr) => h("option", { value: hr.id, "data-i18n-fmt": hearingOption(hr) }, fmt(hearingOption(hr)))));
  picker.select.value = picker.hearings.has(selected) ? String(selected) : "";
}

/** A hearing opened that has no card: its title. */
function picked(hr) {
  if (!rooms.has(hr.id)) rooms.set(hr.id, { id: hr.id, label: `${hr.case_number ?? ""} ${hr.title ?? ""}`.trim() });
}

/** A hearing the cards and the picker's pages so far do not hold (?hearing= named it): into the picker. */
async function knowHearing(id) {
  if (picker.hearings.has(id)) return picker.hearings.get(id);
  const hr = await api("GET", ENDPOINTS.hearing(id));
  const { case_number: number } = await api("GET", ENDPOINTS.caseOne(hr.case_id));
  toPicker([{ ...hr, case_number: number }]);
  return picker.hearings.get(id);
}

function build() {
  const button = (id, key, fn, cls = "btn") => h("button", { class: cls, type: "button", id, "data-i18n": key,
    onclick: () => fn().catch(reportError) });
  controls = hearingControls(() => detail?.hearing, (hr) => {
    // Answered after the clerk opened another room: the controls go on showing that room's hearing.
    if (detail?.hearingId === hr.id) detail.hearing = hr;
    const room = rooms.get(hr.id);
    toPicker([hr]);
    if (room?.card) hearingNow(room, hr.status);
    if (LIVE.has(hr.status)) started(hr)?.catch(reportError); // started here: followed from now on
  });
  const bar = h("div", { class: "row record-bar", id: "record-bar" }, ...controls.elements, h("span", { id: "record-state" }),
    button("export-pdf", "tr.pdf", () => download("pdf")), button("export-docx", "tr.docx", () => download("docx")),
    button("unlock", "tr.unlock", unlock), button("signoff", "tr.signoff", signOff, "btn primary"));
  document.getElementById("main").replaceChildren(h("div", { class: "clerk" },
    h("section", { class: "panel" }, h("h2", { "data-i18n": "clerk.rooms" }),
      h("div", { class: "panel-body rooms", id: "rooms" })),
    h("section", { class: "panel" }, h("h2", {}, h("span", { id: "clerk-title" }), h("span", { class: "spacer" }), bar),
      h("div", { class: "panel-body" }, h("div", { id: "clerk-transcript" })))));
  applyI18n();
}

/** A card for `hr` in the room list (not yet followed). */
function addRoom(hr) {
  const card = roomCard(hr);
  document.getElementById("rooms").append(card);
  // speech: alarm key → the lines that hold that speech alarm ({kind, where, lines: Set of line keys}).
  const room = { id: hr.id, card, status: hr.status, meters: new Map(), alarms: new Map(), speech: new Map(),
    label: `${hr.courtroom_name ?? ""} ${hr.case_number ?? ""}`.trim() };
  rooms.set(hr.id, room);
  return room;
}

/** The room's latest lines into its card. */
async function loadLatest(room) {
  for (const s of await api("GET", ENDPOINTS.lastSegments(room.id, CARD_LINES))) noteFinal(room, segmentOf(s));
}

/** Follow a running (or paused) hearing's room live: meters, alarms, its latest lines; settles once loaded. */
function follow(room) {
  room.live = new LiveHearing(room.id, {
    onEvent: (ev) => onEvent(room, ev),
    // Its latest lines (and after a reset the open transcript too, a correction being typed kept).
    onLoad: async () => {
      room.card.querySelector(".mini").replaceChildren();
      clearAlarms(room); // what nothing keeps in force any more (a restart) goes; the rest comes again
      await loadLatest(room);
      if (selected === room.id && detail) await loadDetail(room.id, detail.view);
    },
    // The hello names the seats of a hearing that started before this socket (its "started" did).
    // The server ends the stream of a hearing that ended (also one a poll read as running just before).
    onState: (state, hello) => {
      if (Array.isArray(hello?.seats)) setSeats(room, hello.seats);
      if (state === "ended") hearingNow(room, "ended");
    },
    onError: reportError,
  }).start();
  return room.live.loaded;
}

function showStatus(room, status) {
  room.status = status;
  const tag = room.card.querySelector("h3 .tag");
  tag.dataset.i18n = `status.${status}`;
  tag.textContent = t(`status.${status}`);
}

/**
 * A room's hearing status now (a live event, the server ending its stream, a control's answer): its picker
 * option and card say so. One ended leaves the cards (they are the hearings in progress, in recess and due
 * today, as when the console is opened); open, its transcript stays, for corrections and sign-off.
 */
function hearingNow(room, status) {
  if (selected === room.id && detail?.hearing && detail.hearing.status !== status) {
    detail.hearing = { ...detail.hearing, status };
    controls.refresh();
  }
  if (picker.hearings.has(room.id)) toPicker([{ id: room.id, status }]);
  if (rooms.get(room.id) !== room || !room.card) return; // (its card gone already: a late event)
  if (status !== "ended") return showStatus(room, status);
  room.card.remove(); // (its socket, which the server closes, still feeds the open transcript until then)
  rooms.set(room.id, { id: room.id, label: room.label });
  showEmpty();
}

/** A hearing that started (here, at the bench, anywhere): its room is followed live from now on. */
function started(hr) {
  let room = rooms.get(hr.id);
  if (!room?.card) { // not on the console yet (or only picked from the list): a card of its own
    const picked = room?.label;
    room = addRoom({ ...hr, courtroom_name: courtroomNames.get(hr.courtroom_id) ?? "" });
    room.label = picked ?? room.label;
    showEmpty();
  } else drawCard(room, hr); // its courtroom and title as they are now (it may have moved before it started)
  if (room.status !== hr.status) showStatus(room, hr.status);
  if (room.live || !LIVE.has(hr.status)) return null;
  if (selected === hr.id && detail?.hearing) {
    detail.hearing = { ...detail.hearing, status: hr.status };
    controls.refresh();
  }
  return follow(room);
}

/** A card drawn again from its hearing as last read: its courtroom (a scheduled hearing may move to another
 * room) and title; the card's status is the live events'. */
function drawCard(room, hr) {
  const name = courtroomNames.get(hr.courtroom_id) ?? `#${hr.courtroom_id ?? ""}`;
  room.card.querySelector("h3 .badge").textContent = name;
  room.card.querySelector(".case-no .hearing-title").textContent = hr.title ?? "";
  room.label = `${name} ${room.card.querySelector(".case-no .case-number").textContent}`.trim();
  if (selected === room.id) document.getElementById("clerk-title").textContent = room.label;
}

/** The hearings in progress or in recess (the API lists one status at a time). */
async function liveHearings() {
  return (await Promise.all([...LIVE].map((status) => listHearings({ status })))).flat();
}

async function watchStarts() {
  const found = await liveHearings();
  await knowCourtrooms(found);
  toPicker(found);
  await Promise.all(found.map(started));
}

/** A date-time's day on this terminal. */
function day(iso) {
  return fmtDate(iso).slice(0, 10);
}

/** Scheduled for today: a room's card shows it (not one scheduled weeks ahead: 200 of those flooded the rooms). */
function dueToday(hr) {
  return hr.status === "scheduled" && Boolean(hr.scheduled_start) && day(hr.scheduled_start) === day(new Date().toISOString());
}

/** The names of courtrooms added since they were read, once a hearing names one (to show on its card). */
async function knowCourtrooms(hearings) {
  if (hearings.every((hr) => hr.courtroom_id == null || courtroomNames.has(hr.courtroom_id))) return;
  for (const c of await api("GET", ENDPOINTS.courtrooms)) courtroomNames.set(c.id, c.name);
}

/** Today's scheduled hearings: a card for one scheduled since, one moved or retitled drawn again, and one no
 * longer due today looked at again. */
async function watchToday() {
  const due = (await listHearings({ status: "scheduled" })).filter(dueToday);
  await knowCourtrooms(due);
  toPicker(due);
  for (const hr of due) {
    const room = rooms.get(hr.id);
    if (!room?.card) addRoom({ ...hr, courtroom_name: courtroomNames.get(hr.courtroom_id) ?? "" });
    else if (room.status === "scheduled") drawCard(room, hr);
  }
  const listed = new Set(due.map((hr) => hr.id));
  for (const room of [...rooms.values()]) {
    if (room.card && room.status === "scheduled" && !listed.has(room.id)) await recheck(room);
  }
  showEmpty();
}

/** A scheduled hearing's card whose hearing is no longer due today: followed if it started meanwhile, else it
 * goes (cancelled, put off to another day). */
async function recheck(room) {
  const hr = await api("GET", ENDPOINTS.hearing(room.id));
  if (rooms.get(room.id) !== room || room.status !== "scheduled") return; // found started meanwhile
  toPicker([hr]);
  if (LIVE.has(hr.status)) await started(hr);
  else if (dueToday(hr)) drawCard(room, hr);
  else {
    room.card.remove();
    rooms.delete(room.id);
  }
}

/** "No hearing today" in the room list while it has no card. */
function showEmpty() {
  const box = document.getElementById("rooms");
  box.querySelector(":scope > .empty")?.remove();
  if (![...rooms.values()].some((room) => room.card)) {
    box.append(h("p", { class: "empty", "data-i18n": "clerk.none" }, t("clerk.none")));
  }
}

/** The hearing the address names (?hearing=: the one open when the session ended), else the first room's. */
async function openFirst() {
  const wanted = Number(params().get("hearing"));
  if (Number.isInteger(wanted) && wanted > 0) {
    let known = Boolean(rooms.get(wanted)?.card);
    try {
      if (!known) picked(await knowHearing(wanted));
      known = true;
    } catch (err) {
      reportError(err); // not there (or not this user's to see): the first room's instead
    }
    if (known) return selectRoom(wanted);
  }
  const first = [...rooms.keys()][0];
  if (first !== undefined) await selectRoom(first);
}

async function main() {
  if (!user) return;
  setupHeader("clerk.title");
  build();
  buildPicker();
  try {
    const [courtrooms, running, scheduled] = await Promise.all([api("GET", ENDPOINTS.courtrooms), liveHearings(),
      listHearings({ status: "scheduled" }), morePicker()]);
    for (const c of courtrooms) courtroomNames.set(c.id, c.name);
    // A card for each hearing in progress or in recess, and for each scheduled today (not the weeks ahead).
    const cards = [...running, ...scheduled.filter(dueToday)].sort(byTime);
    for (const hr of cards) addRoom({ ...hr, courtroom_name: courtroomNames.get(hr.courtroom_id) ?? "" });
    toPicker(cards);
    showEmpty();
    // Live rooms are followed; scheduled ones have no lines yet.
    await Promise.all([...rooms.values()].filter((room) => LIVE.has(room.status)).map(follow));
    await openFirst();
    setInterval(() => watchStarts().catch(reportError), STARTS_POLL_MS);
    setInterval(() => watchToday().catch(reportError), SCHEDULE_POLL_MS);
  } catch (err) {
    reportError(err);
  }
  document.body.dataset.ready = "1";
}

main();
