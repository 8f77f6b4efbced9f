// A hearing transcript on screen: final lines role-coloured, partial (provisional) lines visibly
// different and replaced when the final arrives, revised lines updated in place; tap a line to
// replay its audio from the recording (while the hearing is live, from an excerpt of the recording
// being made: the filed one exists only once the hearing has ended).
import { ENDPOINTS, api, eventType, items, setMediaSource } from "./api.js";
import { fmtTime, h, reportError, roleBadge, roleClass } from "./common.js";
import { t } from "./i18n.js";

const LOW_CONFIDENCE = 0.5;
// A speaker's line that follows their previous one within this many seconds, nobody else between,
// is shown as its continuation (no time, no badge): live transcription hands a long sentence out in
// two or three finals. The court record joins them the same way (exports/records.py TURN_GAP_S).
const TURN_GAP_S = 3;
// A live line is replayed from an excerpt this much wider on each side (word timings are ±0.1-0.2 s).
const EXCERPT_PAD_S = 0.3;
// The longest excerpt the server makes (300 s), a hair less: offset + 300 in floats can come out longer.
const EXCERPT_MAX_S = 299.99;

/** Whether a hearing's recording is still being made (no filed recording to play yet). */
export function recordingInProgress(hearing) {
  return hearing?.status === "in_progress" || hearing?.status === "paused";
}

/** Where to hear a hearing from `start` s (to `end`, else as far as an excerpt runs): the filed recording
 * (offset 0), or while it is still being recorded an excerpt from just before `start`, whose times count
 * from `offset`. */
export function replaySource(hearingId, hearing, start, end = Infinity) {
  if (!recordingInProgress(hearing)) return { path: ENDPOINTS.recordingAudio(hearingId), offset: 0 };
  const offset = Math.max(0, Math.round((start - EXCERPT_PAD_S) * 100) / 100); // as the path says it
  return { path: ENDPOINTS.excerpt(hearingId, offset, Math.min(offset + EXCERPT_MAX_S, end + EXCERPT_PAD_S)), offset };
}

/** Accept the segment nested (event.segment / event.data) or flat on the event. */
export function segmentOf(event) {
  const s = event.segment ?? event.data ?? event;
  return {
    id: s.id ?? s.segment_id ?? null,
    start: Number(s.start ?? s.start_s ?? 0),
    end: Number(s.end ?? s.end_s ?? 0),
    text: s.text ?? "",
    seat: s.seat ?? null,
    channel: s.channel ?? null,
    role: s.role ?? null,
    side: s.side ?? null,
    participant: s.participant_name ?? s.participant?.name ?? s.participant ?? null,
    participantId: s.participant_id ?? null,
    confidence: s.confidence ?? null,
    status: s.status ?? null,
    sealed: Boolean(s.sealed),
    revision: Number(s.revision ?? 0), // corrections so far; a correction names the one it was made on
  };
}

export class TranscriptView {
  /**
   * root: the list element; hearingId: for audio replay; actions(seg) → extra buttons per line
   * (the clerk console adds correction and markup); currentHearing() → the hearing shown, whose
   * status (kept up to date by the page, or a promise of it read anew) says at each replay whether its
   * recording is still being made; playOn: a tapped line plays on past its end, not just that line.
   */
  constructor(root, { hearingId = null, actions = null, numbered = false, currentHearing = null,
    playOn = false } = {}) {
    this.root = root;
    this.playOn = playOn;
    this.replays = 0; // a tap whose status read comes back after a later tap gives way
    this.root.classList.add("transcript");
    this.hearingId = hearingId;
    this.currentHearing = currentHearing;
    this.actions = actions;
    this.numbered = numbered;
    this.lines = new Map(); // segment id → element
    this.partials = new Map(); // channel → its provisional line
    this.unfiled = new Map(); // live event seq → element of a final not yet in the dossier
    this.audio = new Audio();
    this.audio.preload = "none";
    this.root.replayAudio = this.audio; // the line-replay player is not in the DOM; reachable for checks
    // A refused replay (e.g. nothing of a recess recorded) says why. A page that plays through a player of
    // its own (view.audio replaced) listens to that one: this Audio then loads nothing and says nothing.
    this.audio.addEventListener("mediafailed", (e) => reportError(e.detail));
    this.stopAt = null;
    this.audio.addEventListener("timeupdate", () => {
      if (this.stopAt !== null && this.audio.currentTime >= this.stopAt) {
        this.audio.pause();
        this.stopAt = null;
      }
    });
    this.empty = h("p", { class: "empty", "data-i18n": "tr.empty" }, t("tr.empty"));
    this.root.replaceChildren(this.empty);
  }

  setHearing(hearingId) {
    this.hearingId = hearingId;
    this.audio.removeAttribute("src");
    this.lines.clear();
    this.partials.clear();
    this.unfiled.clear();
    this.root.replaceChildren(this.empty);
  }

  /** Replace everything with the stored segments (initial load and resync). A form open under a line
   * (a correction being typed) stays with the line, as when a live change redraws it. */
  load(segments) {
    const open = [...this.lines].map(([id, line]) => [id, line.querySelectorAll(":scope > .edit-box")]);
    this.lines.clear();
    this.partials.clear();
    this.unfiled.clear();
    this.root.replaceChildren();
    // Numbered once at the end: numbering at each line walked all lines drawn so far (a long
    // hearing's transcript froze the pane for half a minute).
    this.loading = true;
    try {
      for (const s of items(segments)) this.upsert(segmentOf(s), false);
    } finally {
      this.loading = false;
    }
    this.renumber();
    for (const [id, boxes] of open) {
      const line = this.lines.get(id);
      for (const box of line ? boxes : []) {
        line.append(box);
        box.dispatchEvent(new CustomEvent("line-redrawn", { detail: line.segment }));
      }
    }
    if (!this.lines.size) this.root.append(this.empty);
  }

  /** Apply one live event; returns true when it was a transcript event. */
  apply(event) {
    const type = eventType(event);
    if (type === "status") {
      // A recess or the end stops the transcriber: no final comes for a provisional line now.
      if (["paused", "ended"].includes((event.data ?? event).status)) this.dropPartials();
      return false;
    }
    if (type === "partial") this.partial(segmentOf(event));
    else if (type === "final" || type === "revised") {
      const seg = segmentOf(event);
      if (type === "final") this.dropPartial(seg); // a correction of an earlier line leaves it be
      const line = this.upsert(seg, true);
      // A final the dossier refused for now has no id yet; a "filed" event names it later.
      if (seg.id === null && event.seq != null) this.unfiled.set(event.seq, line);
    } else if (type === "filed") this.filed(event.data ?? event);
    else return false;
    return true;
  }

  /** A held final reached the dossier: its line is drawn again with the segment id (and its actions). */
  filed({ seq, segment_id: id }) {
    const line = this.unfiled.get(seq);
    if (!line) {
      // Its final came before this screen loaded, and the load had no line to show yet: read it now.
      if (!this.lines.has(String(id))) this.fetchLine(id).catch(reportError);
      return;
    }
    this.unfiled.delete(seq);
    if (this.lines.has(String(id))) {
      // The dossier's copy is on screen already (a load after the filing): the unsaved one goes.
      line.remove();
      this.renumber();
      return;
    }
    const fresh = this.renderLine({ ...line.segment, id }, false);
    fresh.className = line.className; // keeps the turn marking
    line.replaceWith(fresh);
    this.lines.set(String(id), fresh);
    this.renumber();
  }

  async fetchLine(id) {
    const hearingId = this.hearingId;
    const seg = segmentOf(await api("GET", ENDPOINTS.segment(id)));
    // Shown meanwhile (a correction's event), or another hearing opened: leave it.
    if (this.hearingId === hearingId && !this.lines.has(String(id))) this.upsert(seg, false);
  }

  /**
   * A partial and its final name the same channel: the transcriber's. Their seats may differ (the
   * final's is worked out from every microphone, the partial keeps its channel's).
   */
  partialKey(seg) {
    return String(seg.channel ?? seg.seat ?? "?");
  }

  dropPartial(seg) {
    const key = this.partialKey(seg);
    this.partials.get(key)?.remove();
    this.partials.delete(key);
  }

  dropPartials() {
    for (const el of this.partials.values()) el.remove();
    this.partials.clear();
  }

  partial(seg) {
    // An empty one takes the line back: its utterance was dropped (every word unsure), no final follows.
    if (!seg.text) return this.dropPartial(seg);
    const key = this.partialKey(seg);
    let el = this.partials.get(key);
    const fresh = this.renderLine(seg, true);
    if (el) el.replaceWith(fresh);
    else this.append(fresh);
    this.partials.set(key, fresh);
    fresh.scrollIntoView?.({ block: "nearest" });
  }

  upsert(seg, live) {
    const line = this.renderLine(seg, false);
    const old = seg.id !== null ? this.lines.get(String(seg.id)) : null;
    if (old) {
      old.replaceWith(line);
      // The line's marks (highlight, bookmark, notes) are the line's, not its text's: they stay.
      for (const mark of ["hl", "bookmarked"]) line.classList.toggle(mark, old.classList.contains(mark));
      let at = line.querySelector(".text");
      for (const tag of old.querySelectorAll(".note-tag")) {
        if (at) at.after(tag);
        else line.append(tag);
        at = tag;
      }
      // A form open under the line (a correction being typed, a note) stays with it and hears of the change.
      for (const box of old.querySelectorAll(":scope > .edit-box")) {
        line.append(box);
        box.dispatchEvent(new CustomEvent("line-redrawn", { detail: seg }));
      }
    } else this.insertOrdered(line, seg.start);
    if (seg.id !== null) this.lines.set(String(seg.id), line);
    this.markTurn(line);
    this.markTurn(this.finalSibling(line, "nextElementSibling"));
    if (live && !old) line.scrollIntoView?.({ block: "nearest" });
    this.renumber();
    return line;
  }

  append(el) {
    this.empty.remove();
    this.root.append(el);
  }

  insertOrdered(line, start) {
    this.empty.remove();
    // Finals arrive in time order almost always; walk back from the end for the rare late one.
    let after = null;
    for (let el = this.root.lastElementChild; el; el = el.previousElementSibling) {
      if (el.classList.contains("partial")) continue;
      if (Number(el.dataset.start) <= start) {
        after = el;
        break;
      }
    }
    if (after) after.after(line);
    else this.root.prepend(line);
  }

  finalSibling(line, direction) {
    let el = line?.[direction];
    while (el && (!el.classList.contains("line") || el.classList.contains("partial"))) el = el[direction];
    return el;
  }

  /** Show ``line`` as the continuation of the line before it when the same speaker goes on. */
  markTurn(line) {
    if (!line?.segment || line.classList.contains("partial")) return;
    const a = this.finalSibling(line, "previousElementSibling")?.segment;
    const b = line.segment;
    const same = a && (a.seat ?? a.role) !== null && a.seat === b.seat && a.role === b.role
      && a.participant === b.participant;
    line.classList.toggle("cont", Boolean(same && !a.sealed && !b.sealed && b.start >= a.start
      && b.start - a.end <= TURN_GAP_S));
  }

  renumber() {
    if (!this.numbered || this.loading) return;
    let n = 0;
    for (const el of this.root.querySelectorAll(".line:not(.partial) .lineno")) el.textContent = String(++n);
  }

  renderLine(seg, provisional) {
    const cls = ["line", roleClass(seg.role, seg.side)];
    if (provisional) cls.push("partial");
    if (seg.sealed) cls.push("sealed");
    if (seg.confidence !== null && seg.confidence < LOW_CONFIDENCE) cls.push("lowconf");
    if (!seg.role) cls.push("unattributed");
    if (seg.status === "corrected") cls.push("corrected");
    const text = h("span", { class: "text" }, seg.text);
    const line = h("div", { class: cls.join(" "), dataset: { start: seg.start, end: seg.end, segmentId: seg.id ?? "" },
      id: seg.id !== null && !provisional ? `seg-${seg.id}` : null, tabindex: "0", role: "button" },
      this.numbered ? h("span", { class: "lineno" }) : null,
      h("span", { class: "time" }, fmtTime(seg.start)),
      roleBadge(seg.role, seg.side, seg.participant),
      text,
      provisional ? h("span", { class: "tag provisional", "data-i18n": "tr.provisional" }, t("tr.provisional")) : null,
      !provisional && seg.id === null
        ? h("span", { class: "tag unsaved", "data-i18n": "tr.unsaved" }, t("tr.unsaved")) : null,
      seg.status === "corrected" ? h("span", { class: "tag", "data-i18n": "tr.corrected" }, t("tr.corrected")) : null,
      seg.sealed ? h("span", { class: "tag sealed", "data-i18n": "ev.sealed" }, t("ev.sealed")) : null);
    if (!provisional && this.actions) line.append(h("span", { class: "line-actions" }, this.actions(seg, line)));
    line.segment = seg;
    if (!provisional) {
      line.addEventListener("click", (e) => {
        if (e.target.closest(".line-actions, .edit-box")) return;
        this.replay(seg).catch(reportError);
      });
    }
    return line;
  }

  /** Play the recording of one line (start → end): the filed recording, or while the hearing is live
   * an excerpt around the line (its times then count from the excerpt's start). */
  async replay(seg) {
    if (!this.hearingId) return;
    const no = ++this.replays;
    const hearing = await this.currentHearing?.();
    if (no !== this.replays) return;
    const { path, offset } = replaySource(this.hearingId, hearing, seg.start, this.playOn ? Infinity : seg.end);
    if (this.audio.dataset.path !== path) {
      await setMediaSource(this.audio, path);
      this.audio.dataset.path = path;
    }
    for (const el of this.root.querySelectorAll(".line.playing")) el.classList.remove("playing");
    this.lines.get(String(seg.id))?.classList.add("playing");
    this.root.dataset.replayStart = seg.start;
    this.stopAt = seg.end > seg.start && !this.playOn ? seg.end - offset : null;
    const play = () => {
      this.audio.currentTime = seg.start - offset;
      this.audio.play().catch(() => {});
    };
    if (this.audio.readyState >= 1) {
      play();
    } else {
      this.audio.addEventListener("loadedmetadata", play, { once: true });
      this.audio.load();
    }
  }

  scrollTo(segmentId) {
    const el = this.lines.get(String(segmentId));
    if (!el) return null;
    el.classList.add("target");
    el.scrollIntoView({ block: "center" });
    return el;
  }
}
