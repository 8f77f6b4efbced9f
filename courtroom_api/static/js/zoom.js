// Pinch-zoom and pan of an exhibit (page image) with pointer events: one finger pans, two fingers
// pinch about their midpoint, the wheel zooms at the cursor, double-tap toggles fit / 2x.
// The view is described as a region of the page in 0..1 coordinates so the bench can send it
// to the party screens whatever their size.

const MIN_ZOOM = 0.5;
const MAX_ZOOM = 12;

export class ZoomViewer {
  constructor(viewport, { onChange } = {}) {
    this.viewport = viewport;
    this.viewport.classList.add("zoom-viewport");
    this.content = document.createElement("div");
    this.content.className = "zoom-content";
    this.viewport.replaceChildren(this.content);
    this.onChange = onChange || (() => {});
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.natural = { w: 1, h: 1 };
    this.pointers = new Map();
    this.lastTap = 0;
    this.bind();
  }

  bind() {
    const vp = this.viewport;
    vp.addEventListener("pointerdown", (e) => this.down(e));
    vp.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) vp.addEventListener(type, (e) => this.up(e));
    vp.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = vp.getBoundingClientRect();
      this.zoomBy(Math.exp(-e.deltaY / 300), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    new ResizeObserver(() => this.refit()).observe(vp);
  }

  /** An <img> for `src`, decoded (its size known) before it is shown. */
  static async loadImage(src, alt = "") {
    const img = new Image();
    img.alt = alt;
    img.draggable = false;
    img.src = src;
    await img.decode().catch(() => {});
    return img;
  }

  /** Show a decoded image at "fit". */
  showImage(img) {
    this.natural = { w: img.naturalWidth || 1, h: img.naturalHeight || 1 };
    this.content.replaceChildren(img);
    this.fit();
    return img;
  }

  clear(node) {
    this.content.replaceChildren(...(node ? [node] : []));
    this.natural = { w: 1, h: 1 };
  }

  get fitScale() {
    const { clientWidth: vw, clientHeight: vh } = this.viewport;
    return Math.min(vw / this.natural.w, vh / this.natural.h) || 1;
  }

  /** Zoom relative to "fit": 1 means the whole page is visible. */
  get zoom() {
    return this.scale / this.fitScale;
  }

  fit() {
    // A hidden or not yet laid out viewport has no size: fit again once it gets one.
    this.atFit = true;
    if (!this.viewport.clientWidth || !this.viewport.clientHeight) return;
    this.scale = this.fitScale;
    const { clientWidth: vw, clientHeight: vh } = this.viewport;
    this.x = (vw - this.natural.w * this.scale) / 2;
    this.y = (vh - this.natural.h * this.scale) / 2;
    this.apply();
  }

  refit() {
    if (this.natural.w <= 1 || !this.viewport.clientWidth || !this.viewport.clientHeight) return;
    // At "fit", stay at fit; otherwise keep the same region in view (tile ↔ switch, rotation).
    if (this.atFit) this.fit();
    else if (this.lastRegion) this.showRegion(this.lastRegion, false);
  }

  zoomBy(factor, cx, cy) {
    this.atFit = false;
    const fit = this.fitScale;
    const next = Math.min(MAX_ZOOM * fit, Math.max(MIN_ZOOM * fit, this.scale * factor));
    const k = next / this.scale;
    this.x = cx - (cx - this.x) * k;
    this.y = cy - (cy - this.y) * k;
    this.scale = next;
    this.apply();
  }

  zoomCenter(factor) {
    this.zoomBy(factor, this.viewport.clientWidth / 2, this.viewport.clientHeight / 2);
  }

  /** The visible part of the page, in 0..1 page coordinates. */
  region() {
    const { clientWidth: vw, clientHeight: vh } = this.viewport;
    const w = this.natural.w * this.scale;
    const hgt = this.natural.h * this.scale;
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return { x0: clamp(-this.x / w), y0: clamp(-this.y / hgt), x1: clamp((vw - this.x) / w), y1: clamp((vh - this.y) / hgt) };
  }

  /** Fit a page region (0..1 coordinates) into the viewport, centred. */
  showRegion(region, notify = true) {
    if (!region) return this.fit();
    this.atFit = false;
    if (!this.viewport.clientWidth || !this.viewport.clientHeight) {
      this.lastRegion = region; // applied by refit() once the viewport has a size
      return;
    }
    const { clientWidth: vw, clientHeight: vh } = this.viewport;
    const rw = Math.max(0.01, region.x1 - region.x0) * this.natural.w;
    const rh = Math.max(0.01, region.y1 - region.y0) * this.natural.h;
    this.scale = Math.min(vw / rw, vh / rh);
    const cx = ((region.x0 + region.x1) / 2) * this.natural.w;
    const cy = ((region.y0 + region.y1) / 2) * this.natural.h;
    this.x = vw / 2 - cx * this.scale;
    this.y = vh / 2 - cy * this.scale;
    this.apply(notify);
  }

  apply(notify = true) {
    this.lastRegion = this.region();
    this.content.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    this.viewport.dataset.zoom = this.zoom.toFixed(3);
    if (notify) this.onChange(this);
  }

  down(e) {
    try {
      this.viewport.setPointerCapture(e.pointerId); // keep the gesture when a finger leaves the pane
    } catch {
      // not an active pointer (synthetic events): the gesture still works without capture
    }
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY, t0: Date.now() });
    if (this.pointers.size > 1) this.multi = true;
  }

  toggleZoom(e) {
    const r = this.viewport.getBoundingClientRect();
    if (this.zoom > 1.05) this.fit();
    else this.zoomBy(2, e.clientX - r.left, e.clientY - r.top);
  }

  move(e) {
    const prev = this.pointers.get(e.pointerId);
    if (!prev) return;
    if (this.pointers.size === 1) {
      this.atFit = false;
      this.x += e.clientX - prev.x;
      this.y += e.clientY - prev.y;
      Object.assign(prev, { x: e.clientX, y: e.clientY });
      this.apply();
      return;
    }
    const [a, b] = [...this.pointers.values()];
    const before = pinch(a, b);
    Object.assign(prev, { x: e.clientX, y: e.clientY });
    const [a2, b2] = [...this.pointers.values()];
    const after = pinch(a2, b2);
    const r = this.viewport.getBoundingClientRect();
    this.x += after.mx - before.mx;
    this.y += after.my - before.my;
    this.zoomBy(after.dist / (before.dist || 1), after.mx - r.left, after.my - r.top);
  }

  up(e) {
    const p = this.pointers.get(e.pointerId);
    if (!p) return;
    this.pointers.delete(e.pointerId);
    // A double tap is two short, still, single-finger taps: not the end of a pinch or a pan.
    const tap = e.type === "pointerup" && !this.multi && Date.now() - p.t0 < 250
      && Math.hypot(e.clientX - p.x0, e.clientY - p.y0) < 10;
    if (!this.pointers.size) this.multi = false;
    if (!tap) return;
    const now = Date.now();
    if (now - this.lastTap < 300) {
      this.lastTap = 0;
      this.toggleZoom(e);
    } else {
      this.lastTap = now;
    }
  }
}

function pinch(a, b) {
  return { dist: Math.hypot(a.x - b.x, a.y - b.y), mx: (a.x + b.x) / 2, my: (a.y + b.y) / 2 };
}
