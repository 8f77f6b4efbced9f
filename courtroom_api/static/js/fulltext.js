// The full transcript of one hearing with line numbers, opened at a given line (from search).
import { ENDPOINTS, api, requireLogin } from "./api.js";
import { fmtDate, h, params, reportError, setupHeader } from "./common.js";
import { applyI18n } from "./i18n.js";
import { TranscriptView } from "./transcript.js";

const user = requireLogin(["appeal_judge", "judge", "clerk", "party"]);

async function main() {
  setupHeader("tr.open");
  const hearingId = params().get("hearing");
  const box = h("div", { id: "full-transcript" });
  const audio = h("audio", { id: "player", controls: true, preload: "none" });
  const title = h("h2", {}, h("span", { id: "hearing-title" }), h("span", { class: "spacer" }), audio);
  document.getElementById("main").replaceChildren(h("section", { class: "panel", style: "flex:1" }, title,
    h("div", { class: "panel-body" }, box)));
  applyI18n();
  try {
    const hearing = await api("GET", ENDPOINTS.hearing(hearingId));
    const cas = await api("GET", ENDPOINTS.caseOne(hearing.case_id));
    document.getElementById("hearing-title").textContent =
      `${cas.case_number} · ${hearing.title || `#${hearing.id}`} · ${fmtDate(hearing.started_at)}`;
    // The page's own player: tapping a line plays on from there. A hearing still being recorded has no
    // filed recording: the line plays from an excerpt, as on the bench, as far as one runs. Its status is
    // read at each tap: a hearing in recess when the page opened may have ended and been filed since.
    const view = new TranscriptView(box, { hearingId, numbered: true, playOn: true,
      currentHearing: () => api("GET", ENDPOINTS.hearing(hearingId)) });
    view.audio = audio;
    audio.addEventListener("mediafailed", (e) => reportError(e.detail));
    view.load(await api("GET", ENDPOINTS.segments(hearingId)));
    const target = params().get("segment");
    if (target) view.scrollTo(target);
  } catch (err) {
    reportError(err);
  }
  document.body.dataset.ready = "1";
}

if (user) main();
