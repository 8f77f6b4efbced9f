// Appeal search: query with role, case and date filters; hits with context; an audio player that
// starts at the hit; open the full transcript at that line.
import { ENDPOINTS, api, apiPage, requireLogin, setMediaSource } from "./api.js";
import { fmtTime, h, markedSnippet, params, reportError, roleBadge, setupHeader } from "./common.js";
import { applyI18n, t } from "./i18n.js";
import { replaySource } from "./transcript.js";

const user = requireLogin(["appeal_judge", "judge", "clerk"]);
const ROLES = ["presiding_judge", "judge", "peoples_assessor", "clerk", "plaintiff", "defendant", "third_party",
  "agent", "prosecutor", "witness", "expert", "interpreter"];

function field(key, input) {
  return h("label", {}, h("span", { "data-i18n": key }), input);
}

function build() {
  const q = h("input", { type: "search", id: "q", name: "q", "data-i18n-placeholder": "search.query" });
  const role = h("select", { id: "role", name: "role" }, h("option", { value: "", "data-i18n": "search.any" }),
    ROLES.map((r) => h("option", { value: r, "data-i18n": `role.${r}` })));
  const cas = h("input", { id: "case", name: "case", "data-i18n-placeholder": "search.case" });
  const from = h("input", { id: "from", name: "from", type: "date" });
  const to = h("input", { id: "to", name: "to", type: "date" });
  const form = h("form", { class: "search-form panel", style: "padding:10px", id: "search-form" },
    field("search.query", q), field("search.role", role), field("search.case", cas), field("search.from", from),
    field("search.to", to), h("button", { class: "btn primary", type: "submit", id: "search-go", "data-i18n": "search.go" }));
  const results = h("div", { id: "results", class: "panel-body" });
  const audio = h("audio", { id: "player", controls: true, preload: "none" });
  audio.addEventListener("mediafailed", (e) => reportError(e.detail)); // e.g. nothing of a recess recorded
  const playing = h("div", { id: "now-playing", class: "meta" });
  const layout = h("div", { class: "search-layout" },
    h("section", { class: "panel" }, results),
    h("section", { class: "panel" }, h("h2", { "data-i18n": "search.play" }),
      h("div", { class: "panel-body player" }, playing, audio)));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run({ q: q.value.trim(), role: role.value, case: cas.value.trim(), from: from.value, to: to.value });
  });
  document.getElementById("main").replaceChildren(form, layout);
  applyI18n();
  const p = params();
  if (p.get("q")?.trim()) {
    // trimmed as a typed query is: a link pasted with a blank after the case number is that number
    q.value = p.get("q").trim();
    role.value = p.get("role") ?? "";
    cas.value = (p.get("case") ?? "").trim();
    from.value = p.get("from") ?? "";
    to.value = p.get("to") ?? "";
    run({ q: q.value, role: role.value, case: cas.value, from: p.get("from"), to: p.get("to") });
  }
}

function hearingOf(hit) {
  return hit.hearing_id ?? hit.hearing?.id;
}

let playNo = 0; // a tap's reads that come back after a later tap must not load the player over it

/** Play the hearing's recording from the hit's time offset (the API's play link without #t); a hearing
 * still being recorded (in recess, or going on) has none filed yet: an excerpt from the hit on. */
async function play(hit) {
  const no = ++playNo;
  const audio = document.getElementById("player");
  const start = Number(hit.start_s ?? hit.start ?? 0);
  document.getElementById("now-playing").textContent = `${hit.case_number ?? ""} · ${fmtTime(start)}`;
  audio.dataset.start = start;
  // its status now, not at the search: a hearing in recess then may have ended and been filed since
  const hearing = await api("GET", ENDPOINTS.hearing(hearingOf(hit)));
  if (no !== playNo) return;
  // One stream per hearing, whichever hit of it is played (play_url differs only by ?t=).
  const { path, offset } = replaySource(hearingOf(hit), hearing, start);
  const go = () => {
    if (no !== playNo) return; // its metadata came after a later tap: that one seeks
    audio.currentTime = start - offset;
    audio.play().catch(() => {});
  };
  if (audio.dataset.path === path && audio.readyState >= 1) return go();
  delete audio.dataset.path; // what the player holds is not known until this source is set
  await setMediaSource(audio, path);
  if (no !== playNo) return; // the later tap's source is (being) set: its own loadedmetadata plays it
  audio.dataset.path = path;
  audio.addEventListener("loadedmetadata", go, { once: true });
}

function renderHit(hit) {
  const start = Number(hit.start ?? hit.start_s ?? hit.offset ?? 0);
  const snippet = h("p", { class: "snippet" });
  snippet.append(markedSnippet(hit.snippet ?? hit.text ?? ""));
  const segId = hit.segment_id ?? hit.id;
  return h("article", { class: "hit", dataset: { segmentId: segId, hearingId: hearingOf(hit) } },
    h("h3", {}, hit.case_number ?? "", ` · #${hearingOf(hit)} · ${fmtTime(start)}`),
    h("div", { class: "meta" }, roleBadge(hit.role, hit.side, hit.participant ?? hit.participant_name),
      // the court's day (as the from/to filter counts it), not the UTC one of held_at
      hit.held_on ?? String(hit.held_at ?? "").slice(0, 10),
      // a sealed line (only the bench and clerks find one): not to be quoted outside the bench
      hit.sealed ? h("span", { class: "tag sealed", "data-i18n": "ev.sealed" }, t("ev.sealed")) : null),
    snippet,
    h("div", { class: "row" },
      h("button", { class: "btn primary", type: "button", "data-i18n": "search.play", dataset: { action: "play" },
        onclick: () => play(hit).catch(reportError) }, t("search.play")),
      h("a", { class: "btn", role: "button", style: "display:inline-flex;align-items:center;text-decoration:none",
        href: `/transcript?hearing=${hearingOf(hit)}&segment=${segId}`, "data-i18n": "tr.open" }, t("tr.open"))));
}

const PAGE = 50;
let searchNo = 0; // a "more" of an earlier search must not append to this one's hits

/** A "more" button that appends the next page of hits (the API's cursor) in its place. */
function moreButton(query, cursor, no) {
  const more = h("button", { class: "btn", type: "button", id: "search-more", "data-i18n": "search.more" },
    t("search.more"));
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const page = await apiPage(ENDPOINTS.search, { ...query, limit: PAGE, cursor });
      if (no !== searchNo) return;
      more.replaceWith(...page.items.map(renderHit), ...(page.next ? [moreButton(query, page.next, no)] : []));
    } catch (err) {
      more.disabled = false;
      reportError(err);
    }
  });
  return more;
}

async function run(query) {
  const results = document.getElementById("results");
  const no = ++searchNo;
  results.replaceChildren(h("p", { class: "empty" }, t("common.loading")));
  try {
    const page = await apiPage(ENDPOINTS.search, { ...query, limit: PAGE });
    if (no === searchNo) {
      results.replaceChildren(...(page.items.length ? page.items.map(renderHit)
        : [h("p", { class: "empty", "data-i18n": "search.none" }, t("search.none"))]),
        ...(page.next ? [moreButton(query, page.next, no)] : []));
      history.replaceState(null, "", `?${new URLSearchParams(Object.entries(query).filter(([, v]) => v))}`);
    }
  } catch (err) {
    if (no === searchNo) results.replaceChildren();
    reportError(err);
  }
  document.body.dataset.searched = String(Number(document.body.dataset.searched ?? 0) + 1);
}

if (user) {
  setupHeader("search.title");
  build();
  document.body.dataset.ready = "1";
}
