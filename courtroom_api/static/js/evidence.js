// One exhibit on screen: document pages and images in a ZoomViewer (page through, pinch, pan),
// audio and video in native players with seeking (served with HTTP Range by the API); a Word file,
// which has no pages the server renders, is offered for download.
import { ENDPOINTS, api, mediaUrl, setMediaSource } from "./api.js";
import { h, reportError } from "./common.js";
import { t } from "./i18n.js";
import { ZoomViewer } from "./zoom.js";

export function evidenceLabel(ev) {
  return `${ev.exhibit_number ?? ev.exhibit ?? ev.id} · ${ev.title ?? ev.filename ?? ""}`;
}

function pageCount(ev) {
  return Number(ev.page_count ?? ev.pages ?? 1) || 1;
}

/** A document the screens cannot page through (only PDFs have rendered pages): downloaded instead. */
export function downloadOnly(ev) {
  return ev?.kind === "document" && Boolean(ev.mime_type) && ev.mime_type !== "application/pdf";
}

/** Save the exhibit's file, named by the server (a fresh media link at each tap: a link lives a few minutes). */
async function download(ev) {
  const a = h("a", { href: await mediaUrl(ENDPOINTS.evidenceContent(ev.id)), download: "" });
  document.body.append(a);
  a.click();
  a.remove();
}

/** Documents: how many pages, and the URL of one rendered page (asked once per exhibit). */
async function pagesOf(ev) {
  if (ev.kind !== "document" || downloadOnly(ev)) return null;
  if (!ev.pagesInfo) {
    const info = await api("GET", ENDPOINTS.evidencePages(ev.id));
    ev.pagesInfo = info;
    ev.page_count = info.pages;
  }
  return ev.pagesInfo;
}

// Rendered page width: sharp enough to zoom into a contract's small print.
const PAGE_WIDTH_PX = 2000;

function pageUrl(ev, page) {
  const tpl = ev.pagesInfo?.url_template ?? `${ENDPOINTS.evidencePage(ev.id, "{page}")}?width={width}`;
  return tpl.replace("{page}", String(page)).replace("{width}", String(PAGE_WIDTH_PX));
}

export class EvidenceViewer {
  /** onView(state) is called when the exhibit, page or zoom region changes; onError(err) when a page
   * turned to fails to load (sealed or withdrawn meanwhile). */
  constructor(root, { onView, onError } = {}) {
    this.root = root;
    this.onView = onView || (() => {});
    this.onError = onError || reportError;
    this.evidence = null;
    this.page = 1;
    this.quiet = false;
    this.build();
  }

  build() {
    this.caption = h("div", { class: "ev-caption", "data-i18n": "ev.none" }, t("ev.none"));
    this.pageLabel = h("span", { class: "ev-page" });
    const btn = (key, label, fn) => h("button", { class: "btn icon", type: "button", "data-i18n-aria": key,
      "aria-label": t(key), title: t(key), onclick: fn, "data-action": key }, label);
    this.prevBtn = btn("ev.prev", "◀", () => this.goto(this.page - 1).catch(this.onError));
    this.nextBtn = btn("ev.next", "▶", () => this.goto(this.page + 1).catch(this.onError));
    this.toolbar = h("div", { class: "ev-toolbar" },
      this.prevBtn, this.pageLabel, this.nextBtn,
      btn("ev.zoomout", "−", () => this.zoom.zoomCenter(1 / 1.5)),
      btn("ev.zoomin", "+", () => this.zoom.zoomCenter(1.5)),
      btn("ev.fit", "⤢", () => this.zoom.fit()));
    this.viewport = h("div", { class: "ev-viewport" });
    this.media = h("div", { class: "ev-media", hidden: true });
    this.root.replaceChildren(this.caption, this.toolbar, this.viewport, this.media);
    this.zoom = new ZoomViewer(this.viewport, { onChange: () => this.changed() });
    this.updateToolbar();
  }

  changed() {
    if (!this.quiet && this.evidence) this.onView(this.state());
  }

  state() {
    if (!this.evidence) return null;
    return { evidence_id: this.evidence.id, page: this.page, region: this.isPaged() ? this.zoom.region() : null };
  }

  isPaged() {
    const kind = this.evidence?.kind;
    return (kind === "document" && !downloadOnly(this.evidence)) || kind === "image";
  }

  updateToolbar() {
    const paged = this.isPaged();
    this.toolbar.hidden = !paged;
    const total = this.evidence ? pageCount(this.evidence) : 1;
    this.pageLabel.textContent = `${this.page} / ${total}`;
    this.prevBtn.disabled = this.page <= 1;
    this.nextBtn.disabled = this.page >= total;
  }

  /** Show an exhibit; `view` may give page, zoom region and media time (from the bench). */
  async show(ev, view = {}) {
    // The latest call wins: a slower earlier one (e.g. following the bench while the party taps
    // another exhibit) must not paint over it when its page image arrives late.
    const generation = (this.generation = (this.generation ?? 0) + 1);
    this.quiet = true;
    try {
      const same = this.evidence && this.evidence.id === ev.id;
      if (ev.kind === "document") await pagesOf(ev);
      if (generation !== this.generation) return;
      this.evidence = ev;
      this.caption.textContent = evidenceLabel(ev);
      this.caption.removeAttribute("data-i18n");
      this.root.dataset.evidenceId = ev.id;
      if (ev.kind === "audio" || ev.kind === "video") {
        if (!same) await this.showMedia(ev);
      } else if (downloadOnly(ev)) {
        this.page = 1;
        this.showDownload(ev);
      } else {
        this.page = Math.min(Math.max(1, Number(view.page) || 1), pageCount(ev));
        await this.showPage(view.region, generation);
      }
      if (generation !== this.generation) return;
      this.updateToolbar();
    } finally {
      this.quiet = false;
    }
    this.changed();
  }

  async showPage(region, generation) {
    const ev = this.evidence;
    const page = this.page;
    const path = ev.kind === "document" ? pageUrl(ev, page) : ENDPOINTS.evidenceContent(ev.id);
    const current = this.viewport.querySelector("img");
    if (!current || current.dataset.path !== path) {
      const img = await ZoomViewer.loadImage(await mediaUrl(path), `${evidenceLabel(ev)} ${page}`);
      if (generation !== this.generation) return;
      // Refused (sealed or withdrawn since the list was read): said, not painted as a broken image.
      if (!img.naturalWidth && !img.naturalHeight) throw new Error(`${t("ev.loadfailed")}: ${evidenceLabel(ev)}`);
      this.zoom.showImage(img);
      img.dataset.path = path;
    }
    this.viewport.hidden = false;
    this.media.hidden = true;
    this.media.replaceChildren();
    this.root.dataset.page = page;
    if (region) this.zoom.showRegion(region, false);
  }

  async showMedia(ev) {
    this.viewport.hidden = true;
    this.media.hidden = false;
    const tag = ev.kind === "video" ? "video" : "audio";
    const player = h(tag, { controls: true, preload: "metadata", class: `ev-${tag}` });
    // Large seek buttons: the native control bar is small for a finger.
    const seek = (delta, label, key) => h("button", { class: "btn", type: "button", dataset: { action: key },
      "data-i18n-aria": key, "aria-label": t(key),
      onclick: () => { player.currentTime = Math.max(0, player.currentTime + delta); } }, label);
    this.media.replaceChildren(player, h("div", { class: "row" },
      seek(-10, "◀◀ 10s", "ev.back"), seek(-2, "◀ 2s", "ev.back2"), seek(2, "2s ▶", "ev.fwd2"), seek(10, "10s ▶▶", "ev.fwd")));
    this.root.dataset.page = "";
    await setMediaSource(player, ENDPOINTS.evidenceContent(ev.id));
  }

  showDownload(ev) {
    this.viewport.hidden = true;
    this.media.hidden = false;
    this.media.replaceChildren(
      h("p", { class: "ev-note", "data-i18n": "ev.noview" }, t("ev.noview")),
      h("button", { class: "btn primary", type: "button", dataset: { action: "ev.download" }, "data-i18n": "ev.download",
        onclick: () => download(ev).catch(reportError) }, t("ev.download")));
    this.root.dataset.page = "";
  }

  /** The exhibit on screen as the server lists it now (retitled, renumbered): its caption follows, what
   * is shown stays. The caption kept the old title. */
  refresh(ev) {
    if (!this.evidence || String(this.evidence.id) !== String(ev.id)) return;
    this.evidence = { ...this.evidence, ...ev };
    this.caption.textContent = evidenceLabel(this.evidence);
  }

  async goto(page) {
    if (!this.evidence) return;
    await this.show(this.evidence, { page });
  }

  clear() {
    this.generation = (this.generation ?? 0) + 1; // an exhibit still loading is not painted after all
    this.evidence = null;
    this.caption.textContent = t("ev.none");
    this.caption.dataset.i18n = "ev.none";
    delete this.root.dataset.evidenceId;
    this.zoom.clear();
    this.media.replaceChildren();
    this.updateToolbar();
  }
}
