// Tiny client for the courtroom REST API and the live hearing WebSocket.
// Every URL the pages use is listed in ENDPOINTS, so the pages follow the API in one place.

const TOKEN_KEY = "courtroom.token";
const USER_KEY = "courtroom.user";

export const ENDPOINTS = {
  token: "/api/auth/token",
  me: "/api/auth/me",
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
  segments: (id) => `/api/hearings/${id}/segments`,
  display: (id) => `/api/hearings/${id}/display`,
  signoff: (id) => `/api/hearings/${id}/signoff`,
  annotations: (id) => `/api/hearings/${id}/annotations`,
  recordingAudio: (id) => `/api/hearings/${id}/recording/mixdown`,
  segment: (id) => `/api/segments/${id}`,
  segmentSeal: (id) => `/api/segments/${id}/seal`,
  evidence: (id) => `/api/evidence/${id}`,
  evidenceContent: (id) => `/api/evidence/${id}/content`,
  evidencePage: (id, page) => `/api/evidence/${id}/pages/${page}`,
  search: "/api/search",
  statutes: "/api/statutes",
  live: (id) => `/ws/hearings/${id}`,
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

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  location.assign("/login");
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

async function errorDetail(resp) {
  try {
    const data = await resp.json();
    return typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail ?? data);
  } catch {
    return resp.statusText;
  }
}

/** Call the API with the bearer token; JSON in and out. */
export async function api(method, path, { query, json, form } = {}) {
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
    logout();
    throw new ApiError(401, "session expired");
  }
  if (!resp.ok) throw new ApiError(resp.status, await errorDetail(resp));
  if (resp.status === 204) return null;
  return resp.json();
}

/** A media URL the <audio>/<video>/<img> elements can load: they cannot send headers. */
export function mediaUrl(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  url.searchParams.set("token", token() || "");
  return url.pathname + url.search;
}

/** Every hearing the caller may see (the API lists hearings per case), newest last. */
export async function listHearings() {
  const cases = items(await api("GET", ENDPOINTS.cases));
  const perCase = await Promise.all(cases.map(async (c) => items(await api("GET", ENDPOINTS.caseHearings(c.id)))
    .map((hr) => ({ ...hr, case_number: c.case_number }))));
  return perCase.flat().sort((a, b) => String(a.started_at ?? a.scheduled_start ?? "")
    .localeCompare(String(b.started_at ?? b.scheduled_start ?? "")) || a.id - b.id);
}

/** Lists may come bare or wrapped ({items: [...]}) — accept both. */
export function items(data) {
  if (Array.isArray(data)) return data;
  return data?.items ?? data?.results ?? data?.hits ?? [];
}

/**
 * Live hearing stream: every event carries a per-hearing `seq`. After a drop the client
 * reconnects with ?after=<last seq> and misses nothing; a `resync` event (or a gap the server
 * signals) makes the caller reload the transcript over REST.
 */
export class LiveHearing {
  constructor(hearingId, { onEvent, onResync, onState } = {}) {
    this.hearingId = hearingId;
    this.lastSeq = 0;
    this.onEvent = onEvent || (() => {});
    this.onResync = onResync || (() => {});
    this.onState = onState || (() => {});
    this.retryMs = 500;
    this.closed = false;
    this.ws = null;
  }

  start() {
    this.closed = false;
    this.connect();
    return this;
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const q = new URLSearchParams({ after: String(this.lastSeq), token: token() || "" });
    const ws = new WebSocket(`${proto}://${location.host}${ENDPOINTS.live(this.hearingId)}?${q}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.onState("open");
    };
    ws.onmessage = (msg) => this.receive(msg.data);
    ws.onclose = () => {
      this.onState("closed");
      if (!this.closed) {
        setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 8000);
      }
    };
  }

  receive(raw) {
    let event;
    try {
      event = JSON.parse(raw);
    } catch {
      return;
    }
    const seq = Number(event.seq ?? 0);
    const type = event.type ?? event.kind;
    if (type === "resync") {
      if (seq) this.lastSeq = seq;
      this.onResync(event);
      return;
    }
    if (seq && seq <= this.lastSeq) return; // already seen (replayed after a reconnect)
    if (seq) this.lastSeq = seq;
    this.onEvent(event);
  }

  stop() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
