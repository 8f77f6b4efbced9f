// The bench's reference panes: dossier lookup, comparison, the judge's court notes, statutes.
import { ENDPOINTS, api, items } from "./api.js";
import { fmtDate, h, markedSnippet, reportError, roleBadge } from "./common.js";
import { EvidenceViewer, evidenceLabel } from "./evidence.js";
import { applyI18n, fmt, t } from "./i18n.js";
import { TranscriptView } from "./transcript.js";

/** A hearing's label as an i18n template (its status follows the page's language). */
function hearingLabel(hr) {
  const when = fmtDate(hr.started_at ?? hr.scheduled_start);
  return `${hr.title || `#${hr.id}`} · ${when} · {{status.${hr.status}}}`;
}

/** Case file: particulars, participants, evidence, and earlier hearings' transcripts. */
export class DossierPane {
  constructor(root, { openExhibit }) {
    this.root = root;
    this.openExhibit = openExhibit;
  }

  async open(caseId, current) {
    const [cas, people, hearings, evidence] = await Promise.all([
      api("GET", ENDPOINTS.caseOne(caseId)),
      api("GET", ENDPOINTS.caseParticipants(caseId)),
      api("GET", ENDPOINTS.caseHearings(caseId)),
      api("GET", ENDPOINTS.caseEvidence(caseId)),
    ]);
    const transcriptBox = h("div", { id: "dossier-transcript" });
    let shown = null; // the hearing whose transcript is open (its status: replay from /play or an excerpt)
    const view = new TranscriptView(transcriptBox, { numbered: true, currentHearing: () => shown });
    const hearingButtons = items(hearings).map((hr) => h("button", { class: "pick", type: "button",
      dataset: { hearingId: hr.id }, onclick: async (e) => {
        for (const b of this.root.querySelectorAll("[data-hearing-id]")) b.classList.toggle("on", b === e.currentTarget);
        shown = hr;
        view.setHearing(hr.id);
        view.load(await api("GET", ENDPOINTS.segments(hr.id)).catch((err) => { reportError(err); return []; }));
      }, "data-i18n-fmt": `${hearingLabel(hr)}${hr.id === current?.id ? " ●" : ""}` }));
    this.root.replaceChildren(
      h("div", { class: "stack" },
        h("h3", {}, cas.case_number ?? cas.number ?? `#${cas.id}`),
        h("div", {}, h("span", { "data-i18n": "dossier.cause" }), `: ${cas.cause_of_action ?? cas.cause ?? ""}`),
        h("h4", { "data-i18n": "dossier.participants" }),
        h("div", { class: "row" }, items(people).map((p) => roleBadge(p.role, p.side, p.name))),
        h("h4", { "data-i18n": "dossier.evidence" }),
        h("ul", { class: "list" }, items(evidence).map((ev) => h("li", {}, h("button", { class: "pick", type: "button",
          onclick: () => this.openExhibit(ev) }, evidenceLabel(ev))))),
        h("h4", { "data-i18n": "dossier.hearings" }),
        h("div", { class: "stack" }, hearingButtons),
        transcriptBox));
    applyI18n(this.root);
  }
}

/** Two documents or two transcript passages side by side. */
export class ComparePane {
  constructor(root) {
    this.root = root;
  }

  async open(caseId, evidence) {
    const hearings = items(await api("GET", ENDPOINTS.caseHearings(caseId)));
    const options = [
      ...evidence.filter((ev) => ev.kind === "document" || ev.kind === "image")
        .map((ev) => ({ value: `e:${ev.id}`, label: evidenceLabel(ev), ev })),
      ...hearings.map((hr) => ({ value: `h:${hr.id}`, label: `{{dossier.hearings}} ${hearingLabel(hr)}`, hr })),
    ];
    this.root.replaceChildren(this.side("left", options), this.side("right", options));
    applyI18n(this.root);
  }

  side(name, options) {
    const body = h("div", { class: "compare-body" });
    const select = h("select", { id: `compare-${name}`, "data-i18n-aria": "compare.pick" },
      h("option", { value: "", "data-i18n": "compare.pick" }),
      options.map((o) => h("option", { value: o.value, "data-i18n-fmt": o.hr ? o.label : null }, o.hr ? fmt(o.label) : o.label)));
    select.addEventListener("change", async () => {
      const o = options.find((x) => x.value === select.value);
      if (!o) return body.replaceChildren();
      if (o.ev) {
        const box = h("div", { class: "ev-view" });
        body.replaceChildren(box);
        body.style.height = "100%";
        await new EvidenceViewer(box).show(o.ev);
      } else {
        const box = h("div", {});
        body.replaceChildren(box);
        const view = new TranscriptView(box, { hearingId: o.hr.id, numbered: true, currentHearing: () => o.hr });
        view.load(await api("GET", ENDPOINTS.segments(o.hr.id)).catch((err) => { reportError(err); return []; }));
      }
    });
    return h("div", { class: "compare-side", dataset: { side: name } }, select, body);
  }
}

/** The judge's private court notes for the case, kept in the dossier. */
export class NotesPane {
  /** draftKey: where this tab keeps each case's new note as typed (per user), so that a reload, or a
   * session that ends (its token expired or revoked: the page leaves for the login at once), loses none. */
  constructor(root, { draftKey = null } = {}) {
    this.root = root;
    this.draftKey = draftKey;
  }

  drafts() {
    try {
      return (this.draftKey && JSON.parse(sessionStorage.getItem(this.draftKey) ?? "{}")) || {};
    } catch {
      return {};
    }
  }

  /** The new note of case `caseId` as typed so far; empty: saved or wiped. */
  keepDraft(caseId, value) {
    if (!this.draftKey) return;
    const all = this.drafts();
    if (value.trim()) all[caseId] = value;
    else delete all[caseId];
    sessionStorage.setItem(this.draftKey, JSON.stringify(all));
  }

  async open(caseId, hearingId) {
    this.caseId = caseId;
    this.hearingId = hearingId;
    const text = h("textarea", { id: "note-text", "data-i18n-placeholder": "notes.new",
      oninput: () => this.keepDraft(caseId, text.value) });
    text.value = this.drafts()[caseId] ?? "";
    const save = h("button", { class: "btn primary", type: "button", id: "note-save", "data-i18n": "notes.save",
      onclick: async () => {
        if (!text.value.trim()) return;
        try {
          await api("POST", ENDPOINTS.caseNotes(caseId), { json: { text: text.value, hearing_id: hearingId } });
          text.value = "";
          this.keepDraft(caseId, "");
          await this.refresh();
        } catch (err) {
          reportError(err);
        }
      } });
    this.list = h("div", { class: "stack", id: "notes-list" });
    this.root.replaceChildren(h("div", { class: "stack" },
      h("p", { class: "empty", "data-i18n": "notes.private" }), text, h("div", { class: "row" }, save), this.list));
    applyI18n(this.root);
    await this.refresh();
  }

  async refresh() {
    const notes = items(await api("GET", ENDPOINTS.caseNotes(this.caseId)));
    this.list.replaceChildren(...notes.map((n) => this.renderNote(n)));
    applyI18n(this.list);
  }

  renderNote(n) {
    const body = h("p", { class: "note-text" }, n.text);
    const actions = h("span", { class: "note-actions" },
      h("button", { class: "btn", type: "button", "data-i18n": "notes.edit", dataset: { action: "edit" },
        onclick: () => this.edit(n, card, body) }),
      h("button", { class: "btn", type: "button", "data-i18n": "notes.delete", dataset: { action: "delete" },
        onclick: () => this.askDelete(n, actions) }));
    const card = h("div", { class: "note", dataset: { noteId: n.id } },
      h("div", { class: "meta" }, fmtDate(n.updated_at ?? n.created_at), h("span", { class: "spacer" }), actions),
      body);
    return card;
  }

  /** Delete sits next to edit on a touch bench: a note goes only on a second, deliberate tap. */
  askDelete(n, actions) {
    const buttons = [...actions.children];
    const keep = () => { actions.replaceChildren(...buttons); buttons[1].focus(); };
    const onkeydown = (e) => { if (e.key === "Escape") keep(); };
    const cancel = h("button", { class: "btn", type: "button", "data-i18n": "tr.cancel", dataset: { action: "cancel-delete" },
      onclick: keep, onkeydown });
    const confirm = h("button", { class: "btn danger", type: "button", "data-i18n": "notes.confirmdelete",
      dataset: { action: "confirm-delete" }, onkeydown, onclick: async () => {
        confirm.disabled = true;
        await api("DELETE", ENDPOINTS.note(n.id)).catch(reportError);
        await this.refresh();
      } });
    actions.replaceChildren(h("span", { class: "ask", "data-i18n": "notes.deleteask" }), confirm, cancel);
    applyI18n(actions);
    cancel.focus(); // Enter right after the first tap keeps the note
  }

  edit(n, card, body) {
    if (card.querySelector("textarea")) return;
    const text = h("textarea", {});
    text.value = n.text;
    const save = h("button", { class: "btn primary", type: "button", "data-i18n": "notes.save", dataset: { action: "save" },
      onclick: async () => {
        try {
          await api("PATCH", ENDPOINTS.note(n.id), { json: { text: text.value } });
          await this.refresh();
        } catch (err) {
          reportError(err);
        }
      } });
    body.replaceWith(h("div", { class: "stack" }, text, h("div", { class: "row" }, save)));
    applyI18n(card);
    text.focus();
  }
}

/** Full-text statute lookup over the statutes the court imported; a hit opens its whole article. */
export class StatutesPane {
  constructor(root) {
    this.root = root;
    this.shown = 0; // the latest search or article asked for: an older answer arriving late is dropped
    const input = h("input", { type: "search", id: "statute-query", "data-i18n-placeholder": "statutes.query" });
    this.results = h("div", { id: "statute-results" });
    const go = h("button", { class: "btn primary", type: "button", id: "statute-go", "data-i18n": "search.go" });
    const run = async () => {
      if (!input.value.trim()) return;
      const ticket = ++this.shown;
      try {
        const hits = items(await api("GET", ENDPOINTS.statutes, { query: { q: input.value.trim(), limit: 20 } }));
        if (ticket !== this.shown) return;
        this.hits = hits.length ? hits.map((s) => this.hit(s))
          : [h("p", { class: "empty", "data-i18n": "statutes.none" }, t("statutes.none"))];
        this.results.replaceChildren(...this.hits);
      } catch (err) {
        reportError(err);
      }
    };
    go.addEventListener("click", run);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") run(); });
    root.replaceChildren(h("div", { class: "stack" }, h("div", { class: "row" }, input, go), this.results));
  }

  /** A hit: its article's name (a button, for keyboards) and the search snippet; a tap anywhere opens it. */
  hit(s) {
    const open = h("button", { class: "pick", type: "button", dataset: { action: "open-statute" } },
      `${s.law ?? s.code ?? ""} ${s.article ?? ""}`);
    const body = h("p", {});
    body.append(markedSnippet(s.snippet ?? s.text ?? ""));
    const card = h("article", { class: "statute", dataset: { statuteId: s.id },
      onclick: () => this.openArticle(s.id, open) }, h("h3", {}, open), body);
    return card;
  }

  /** The whole article in place of the hits (a snippet is 160 characters); back returns to them. */
  async openArticle(id, opener) {
    const ticket = ++this.shown;
    let art;
    try {
      art = await api("GET", ENDPOINTS.statute(id));
    } catch (err) {
      reportError(err);
      return;
    }
    if (ticket !== this.shown) return;
    const scroller = this.root.closest(".panel-body");
    const top = scroller?.scrollTop ?? 0;
    const back = h("button", { class: "btn", type: "button", dataset: { action: "statute-back" },
      "data-i18n": "statutes.back", onclick: () => {
        ++this.shown;
        this.results.replaceChildren(...this.hits);
        if (scroller) scroller.scrollTop = top;
        opener.focus({ preventScroll: true });
      } }, t("statutes.back"));
    const full = h("article", { class: "statute statute-full", dataset: { statuteId: art.id },
      onkeydown: (e) => { if (e.key === "Escape") back.click(); } },
      h("div", { class: "row" }, back),
      h("h3", {}, `${art.code} ${art.article}`),
      h("p", { class: "statute-text" }, art.text));
    this.results.replaceChildren(full);
    if (scroller) scroller.scrollTop = 0;
    back.focus({ preventScroll: true });
  }
}
