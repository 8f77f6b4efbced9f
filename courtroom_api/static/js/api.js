// Tiny client for the courtroom REST API and the live hearing WebSocket.
// Every URL the pages use is listed in ENDPOINTS, so the pages follow the API in one place.

const TOKEN_KEY = "courtroom.token";
const USER_KEY = "courtroom.user";

export const ENDPOINTS = {
  token: "/api/auth/token",
  logout: "/api/auth/logout",
  me: "/api/auth/me",
  mediaLinks: "/api/auth/media-links",
  cases: "/api/cases",
  caseOne: (id) => `/api/cases/${id}`,
  caseParticipants: (id) => `/api/cases/${id}/participants`,
  caseEvidence: (id) => `/api/cases/${id}/evidence`,
  caseHearings: (id) => `/api/cases/${id}/hearings`,
  caseNotes: (id) => `/api/cases/${id}/notes`,
  note: (id) => `/api/notes/${id}`,
  courtrooms: "/api/courtrooms",
  hearings: "/api/hearings",
  hearing: (id) => `/api/hearings/${id}`,
  segments: (id) => `/api/hearings/${id}/segments?words=false`, // the pages show lines, not word timings
  lastSegments: (id, n) => `/api/hearings/${id}/segments?words=false&tail=${n}`, // a room's latest lines
  display: (id) => `/api/hearings/${id}/display`,
  start: (id) => `/api/hearings/${id}/start`,
  pause: (id) => `/api/hearings/${id}/pause`, // a recess: start goes on with the same hearing
  stop: (id) => `/api/hearings/${id}/stop`,
  signoff: (id) => `/api/hearings/${id}/signoff`,
  unlock: (id) => `/api/hearings/${id}/unlock`,
  record: (id) => `/api/hearings/${id}/record`,
  exportTranscript: (id, format) => `/api/hearings/${id}/transcript?format=${format}`,
  annotations: (id) => `/api/hearings/${id}/annotations`,
  recordingAudio: (id) => `/api/hearings/${id}/play`,
  // A stretch of a recording still being made (the hearing is live): WAV, seconds of recording time.
  excerpt: (id, start, end) => `/api/hearings/${id}/excerpt?start=${start.toFixed(2)}&end=${end.toFixed(2)}`,
  segment: (id) => `/api/segments/${id}`,
  segmentSeal: (id) => `/api/segments/${id}/seal`,
  segmentSpeaker: (id) => `/api/segments/${id}/speaker`,
  evidence: (id) => `/api/evidence/${id}`,
  evidenceContent: (id) => `/api/evidence/${id}/content`,
  evidencePages: (id) => `/api/evidence/${id}/pages`,
  evidencePage: (id, page) => `/api/evidence/${id}/pages/${page}`,
  search: "/api/search",
  statutes: "/api/statutes",
  statute: (id) => `/api/statutes/${id}`,
  live: (id) => `/ws/hearings/${id}`,
  users: "/api/users",
  user: (id) => `/api/users/${id}`,
  userRevokeTokens: (id) => `/api/users/${id}/revoke-tokens`,
  userUnlock: (id) => `/api/users/${id}/unlock`,
  courts: "/api/courts",
  audit: "/api/audit",
  auditVerify: "/api/audit/verify",
};

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  const raw = sessionStorage.getItem(USER_KEY);
  return raw ? JSON.parse(raw) : null;
}

/**
 * Log out: the server revokes the token (a copy of it, e.g. on a shared bench terminal, stops
 * working), then this tab forgets it. Fire and forget — keepalive lets the request outlive the
 * page we leave, and an unreachable server does not keep anyone logged in here.
 */
export function logout() {
  const t = token();
  if (t) {
    try {
      fetch(ENDPOINTS.logout, { method: "POST", headers: { Authorization: `Bearer ${t}` }, keepalive: true })
        .catch(() => {});
    } catch {
      // fetch itself refused (e.g. too many keepalive requests): forgetting the token still logs out here
    }
  }
  endSession();
}

let leaving = false;

/**
 * Forget the token and go to the login page. keepPlace (the server refused the token: it expired or was
 * revoked): logging in again comes back to this page, as requireLogin does. Once: the page's other
 * requests refused with it do not start the navigation again.
 */
function endSession({ keepPlace = false } = {}) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  if (leaving) return;
  leaving = true;
  const here = location.pathname + location.search;
  location.assign(keepPlace && location.pathname !== "/login" ? `/login?next=${encodeURIComponent(here)}` : "/login");
}

/** Send the user to the login page unless a token is held; returns the user record. */
export function requireLogin(roles) {
  const user = currentUser();
  if (!token() || !user) {
    location.replace(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    return null;
  }
  if (roles && !roles.includes(user.role)) {
    location.replace(`/login?denied=${encodeURIComponent(location.pathname)}`);
    return null;
  }
  return user;
}

/** OAuth2 password flow: the token goes to sessionStorage (gone when the terminal's tab closes). */
export async function login(username, password) {
  const body = new URLSearchParams({ username, password, grant_type: "password" });
  const resp = await fetch(ENDPOINTS.token, { method: "POST", body });
  if (!resp.ok) throw new ApiError(resp.status, await errorDetail(resp));
  const data = await resp.json();
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  const user = await api("GET", ENDPOINTS.me);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  return user;
}

/** The logged-in user as the server has it now (an admin may have changed it), kept for this tab's pages. */
export async function refreshUser() {
  const user = await api("GET", ENDPOINTS.me);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  return user;
}

async function errorDetail(resp) {
  try {
    const data = await resp.json();
    return typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail ?? data);
  } catch {
    return resp.statusText;
  }
}

/** Call the API with the bearer token; JSON in and out. */
export async function api(method, path, options = {}) {
  const resp = await send(method, path, options);
  if (resp.status === 204) return null;
  return resp.json();
}

/** GET one page of a paged list: its items and the next page's cursor (null on the last page). */
export async function apiPage(path, query) {
  const resp = await send("GET", path, { query });
  return { items: await resp.json(), next: resp.headers.get("X-Next-Cursor") };
}

async function send(method, path, { query, json, form } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const resp = await fetch(url, { method, headers, body });
  if (resp.status === 401) {
    endSession({ keepPlace: true });
    throw new ApiError(401, "session expired");
  }
  if (!resp.ok) throw new ApiError(resp.status, await errorDetail(resp));
  return resp;
}

// A download's blob: URL is let go this long after its click (Chromium reads the file from it only once the
// download has started, a moment after the click).
const DOWNLOAD_URL_KEEP_MS = 60_000;

/**
 * Download a whole file fetched with the bearer token (exports), saved as `filename`. Fetched afresh each
 * time: an export after a correction or a sign-off is another file (a blob: URL kept per path downloaded
 * the first one again, and each held its file in memory until the page closed).
 * Media for <img>, <audio> and <video> goes through mediaUrl, which streams.
 */
export async function downloadFile(path, filename) {
  const resp = await fetch(path, { headers: { Authorization: `Bearer ${token() || ""}` } });
  if (!resp.ok) throw new ApiError(resp.status, await errorDetail(resp));
  const url = URL.createObjectURL(await resp.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), DOWNLOAD_URL_KEEP_MS);
}

/**
 * A URL that <img>, <audio> and <video> can load: those elements cannot send the bearer token,
 * so the server signs a short-lived link (?mt=) for exactly this file. The browser then streams
 * it with Range requests — a long recording plays and seeks without being downloaded whole.
 * The query (e.g. ?width=) and fragment (#t=) of `path` are kept.
 */
export async function mediaUrl(path) {
  const want = new URL(path, location.origin);
  const link = await api("POST", ENDPOINTS.mediaLinks, { json: { path: want.pathname } });
  const out = new URL(link.url, location.origin);
  for (const [k, v] of want.searchParams) out.searchParams.set(k, v);
  return `${out.pathname}${out.search}${want.hash}`;
}

const RELINK_MIN_MS = 10_000;
const linkedAt = new WeakMap(); // media element → when its current link was signed

/** Why a media element could not load its source: the server's answer to one byte of it (a 409's
 * "still being made"…), else the element's own error. */
async function mediaFailure(el) {
  try {
    const resp = await fetch(el.currentSrc || el.src, { headers: { Range: "bytes=0-0" } });
    if (!resp.ok) return await errorDetail(resp);
  } catch {
    // unreachable server: the element's error says as much
  }
  return el.error?.message || "the file cannot be played";
}

/**
 * Point an <audio>/<video> at a file through a media link. Links live a few minutes; when a
 * later seek fails because the link expired, a fresh one is signed and playback resumes there.
 * Any other failure (the server refused the file: a recording not filed yet…) is told to the page
 * as a "mediafailed" event whose detail says why; the element itself only says "format error".
 */
export async function setMediaSource(el, path) {
  el.dataset.mediaPath = path;
  // A streamed source loads nothing under preload="none" (blob: URLs did): fetch its metadata only.
  if (el.preload === "none") el.preload = "metadata";
  el.src = await mediaUrl(path);
  linkedAt.set(el, Date.now()); // a link just signed has not expired
  if (el.dataset.relink) return;
  el.dataset.relink = "1";
  // Whether it was meant to play: the refused request pauses it (before "error" is handled), and that
  // pause is not the listener's. A seek while playing past the link's life was left paused.
  let playing = false;
  el.addEventListener("play", () => { playing = true; });
  el.addEventListener("pause", () => { if (!el.error) playing = false; });
  el.addEventListener("error", async () => {
    if (!el.dataset.mediaPath) return;
    if (Date.now() - linkedAt.get(el) < RELINK_MIN_MS) {  // not a stale link: give up, saying why
      el.dispatchEvent(new CustomEvent("mediafailed", { detail: await mediaFailure(el) }));
      return;
    }
    linkedAt.set(el, Date.now());
    const at = el.currentTime;
    const resume = playing;
    el.src = await mediaUrl(el.dataset.mediaPath);
    el.addEventListener("loadedmetadata", () => {
      el.currentTime = at;
      if (resume) el.play().catch(() => {}); // refused (e.g. no user gesture yet): its play button still works
    }, { once: true });
  });
}

/** Every hearing the caller may see, with its case number, newest last (one court-wide request). */
export async function listHearings(filters = {}) {
  return items(await api("GET", ENDPOINTS.hearings, { query: filters })).sort(byTime);
}

/** Hearings in time order (when started, else when scheduled), newest last. */
export function byTime(a, b) {
  return String(a.started_at ?? a.scheduled_start ?? "").localeCompare(String(b.started_at ?? b.scheduled_start ?? ""))
    || a.id - b.id;
}

const UPCOMING_LATE_MS = 12 * 3600 * 1000; // a hearing not started half a day after its time is not "next"

/** The hearing a screen opens when none is live: the earliest scheduled one not yet started, one running up to
 * UPCOMING_LATE_MS late included, else the last of `hearings` (the latest). A hearing running late comes before the
 * room's later ones: "due nearest to now" sent a seat terminal to the next case's hearing (and its exhibits) while
 * its own, 50 minutes late, was about to open. The last was always taken before: a court that schedules weeks
 * ahead got the hearing furthest in the future, not today's next one. */
export function nextHearing(hearings, now = Date.now()) {
  const due = hearings.filter((hr) => hr.status === "scheduled" && hr.scheduled_start
    && Date.parse(hr.scheduled_start) >= now - UPCOMING_LATE_MS);
  const at = (hr) => Date.parse(hr.scheduled_start);
  return due.reduce((best, hr) => (at(hr) < at(best) ? hr : best), due[0]) ?? hearings[hearings.length - 1];
}

/** Lists may come bare or wrapped ({items: [...]}) — accept both. */
export function items(data) {
  if (Array.isArray(data)) return data;
  return data?.items ?? data?.results ?? data?.hits ?? [];
}

/** Event type without the "transcript." prefix: partial, final, revised, meter, alarm, display… */
export function eventType(event) {
  return String(event.type ?? event.kind ?? "").replace(/^transcript\./, "");
}

// Close codes of the live socket after which reconnecting is pointless.
const CLOSE_ENDED = 1000; // the hearing's stream ended: nothing more will come
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_NOT_FOUND = 4404;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 8000;

/**
 * Live hearing stream: JSON frames {seq, type, t, data}; every event carries a per-hearing `seq`.
 *
 * The page reads what it shows over REST in `onLoad`, run once the stream's position is known (the
 * first frame, `hello`, names the last seq: later events come over the socket) and again after a `reset`
 * (events were evicted, or the server restarted). Events that arrive during a load are held and applied
 * after it, in order: the REST answer may hold some of them already, and applying a line again updates
 * it in place. A load started before the position is known could miss the events in between, so it is
 * never started before (`sync` waits for it).
 *
 * After a drop the client reconnects with ?after=<last seq>&epoch=<the stream's epoch> and misses nothing
 * (a stream after a server restart has another epoch: it answers with a reset), backing off while
 * connections fail. When the server ends the stream (close 1000: the hearing ended) it stays closed.
 * `onResync` (pages that load before they start the stream): called after a reset only.
 */
export class LiveHearing {
  constructor(hearingId, { onEvent, onLoad, onResync, onState, onError } = {}) {
    this.hearingId = hearingId;
    this.lastSeq = null; // the stream position followed; unknown until the first hello
    this.epoch = null; // the stream whose seqs lastSeq counts (hello, reset)
    this.onEvent = onEvent || (() => {});
    this.onLoad = onLoad || null;
    this.reload = onLoad || onResync || null;
    this.onState = onState || (() => {});
    this.onError = onError || ((err) => console.error(err));
    this.retryMs = RETRY_MIN_MS;
    this.retryTimer = null;
    this.closed = false;
    this.ws = null;
    this.loads = 0; // loads in flight: events are held meanwhile
    this.held = [];
    let positioned;
    this.positioned = new Promise((ok) => { positioned = ok; });
    this.markPositioned = positioned;
    let loaded;
    let failed;
    // Settles once the page's first load is done (rejected with its error), at the hello without onLoad.
    this.loaded = new Promise((ok, no) => { loaded = ok; failed = no; });
    this.firstLoad = { ok: loaded, no: failed, started: false };
  }

  start() {
    this.closed = false;
    this.connect();
    return this;
  }

  connect() {
    this.retryTimer = null;
    if (this.closed) return; // stopped while a reconnect was pending
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const q = new URLSearchParams({ token: token() || "" });
    // A fresh connection (no `after`) gets no replay of old events: the page's load is the state now.
    if (this.lastSeq !== null) q.set("after", String(this.lastSeq));
    if (this.lastSeq !== null && this.epoch) q.set("epoch", this.epoch);
    const ws = new WebSocket(`${proto}://${location.host}${ENDPOINTS.live(this.hearingId)}?${q}`);
    ws.resumed = this.lastSeq !== null;
    this.ws = ws;
    ws.onopen = () => { if (ws === this.ws) this.onState("open"); };
    // A stopped stream's socket (the page moved on to another hearing) feeds the page nothing more.
    ws.onmessage = (msg) => { if (ws === this.ws && !this.closed) this.receive(msg.data, ws); };
    ws.onclose = (e) => {
      if (ws !== this.ws || this.closed) return;
      if (e.code === CLOSE_UNAUTHORIZED) return endSession({ keepPlace: true });
      this.onState(e.code === CLOSE_ENDED ? "ended" : "closed");
      // No position yet (the socket failed before its hello): the page loads now, and again once it has one.
      if (this.lastSeq === null) this.positionKnown();
      if (e.code === CLOSE_ENDED || e.code === CLOSE_NOT_FOUND) return;
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    };
  }

  receive(raw, ws) {
    let event;
    try {
      event = JSON.parse(raw);
    } catch {
      return;
    }
    const type = eventType(event);
    if (type === "hello") {
      this.onState("live", event.data);
      if (this.lastSeq === null) {
        this.lastSeq = Number(event.data?.last_seq ?? 0);
        this.epoch = event.data?.epoch ?? null;
        this.positionKnown();
      }
      return;
    }
    // "closed": the server drops us (we fell behind, or the stream ended); the close code says which.
    if (type === "closed") return;
    if (type === "reset") {
      // Events were evicted, or the server restarted and numbers from its last saved line again: the
      // reload holds everything up to the server's last seq, so follow its numbers from there (left at
      // our old number, every reconnect was told to reset and reload again). What was held is in it too.
      const serverLast = Number(event.data?.last_seq);
      if (Number.isFinite(serverLast)) this.lastSeq = serverLast;
      if (event.data?.epoch) this.epoch = event.data.epoch;
      this.held = [];
      if (this.reload) this.sync(this.reload).catch(this.onError);
      return;
    }
    const seq = Number(event.seq ?? 0);
    // A fresh connection sends only what is new, and first the display state and the alarms in force (older
    // seqs): only a resumed one replays what this page has seen. After a reset the alarms in force come
    // again with their old seqs, and no REST read has them: an alarm is a state, applied again harmlessly.
    if (seq && ws.resumed && seq <= this.lastSeq && type !== "alarm") return;
    if (seq) {
      this.lastSeq = Math.max(this.lastSeq, seq);
      this.retryMs = RETRY_MIN_MS; // a working connection (not one the server closes at once): retry soon
    }
    if (this.loads) this.held.push(event);
    else this.onEvent(event);
  }

  /** The position is known (or the socket failed before it was): the page's first load, once. */
  positionKnown() {
    this.markPositioned();
    const first = this.firstLoad;
    if (first.started && this.lastSeq === null) return; // a failed socket again: loaded once already
    const again = first.started; // loaded before the position was known (socket failed): load again
    first.started = true;
    if (!this.onLoad) return first.ok();
    const done = this.sync(this.onLoad);
    if (again) done.catch(this.onError);
    else done.then(first.ok, first.no);
  }

  /**
   * Run `load` (a REST read of what the page shows) once the stream's position is known, holding live
   * events back until it is done; they are applied after it. Returns what `load` returns.
   */
  async sync(load) {
    this.loads += 1;
    try {
      await this.positioned;
      return await load();
    } finally {
      this.loads -= 1;
      if (!this.loads) this.flush();
    }
  }

  flush() {
    while (this.held.length && !this.loads && !this.closed) this.onEvent(this.held.shift());
  }

  stop() {
    this.closed = true;
    clearTimeout(this.retryTimer); // a reconnect due after a drop
    this.retryTimer = null;
    this.held = [];
    if (this.ws) this.ws.close();
  }
}
