import { quadtree, type Quadtree } from 'd3-quadtree';

export interface ScatterData {
  xs: Float32Array;
  ys: Float32Array;
  /** Each point's colour, an index into `palette`. */
  colors: Uint8Array;
  palette: readonly string[];
}

export interface ScatterEvents {
  /** The point under the pointer (null: none), with its position in CSS pixels within the canvas. */
  onHover(index: number | null, x: number, y: number): void;
  onSelect(index: number): void;
}

const WHITE = 0xffffffff;

/** '#rrggbb' as one pixel of an ImageData buffer (bytes R, G, B, A; little-endian words). */
function pixelOf(hex: string): number {
  const v = parseInt(hex.slice(1), 16);
  return ((0xff << 24) | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)) >>> 0;
}

/** CSS pixels around the pointer within which a point counts as under it. */
const HIT_RADIUS = 6;
const POINT_SIZE = 3;
const MIN_ZOOM = 0.5;
const MAX_ZOOM = 400;
/** Pixels a key press pans. */
const KEY_PAN = 40;

/**
 * A canvas scatter plot of many points with pan (drag, arrow keys), zoom (wheel, + and -) and
 * hover and click through a quadtree. Written here rather than taken from a chart library: the
 * map needs 20,000+ points redrawn per frame while panning, which writing their pixels into one
 * ImageData does in a few milliseconds even without a GPU, where SVG- or DOM-based charts (and a
 * fillRect per point on a software canvas) take tens. Frames are coalesced with requestAnimationFrame; each draw is a User Timing measure
 * ("recoder-map-draw") that a PerformanceObserver (a profiler, the bench) receives.
 */
export class ScatterPlot {
  private data: ScatterData | null = null;
  /** The palette as 32-bit pixels (RGBA bytes in memory order). */
  private pixels = new Uint32Array(0);
  private image: ImageData | null = null;
  private tree: Quadtree<number> | null = null;
  private highlight: number[] = [];
  private selected: number | null = null;
  // view: screen = ((x - cx) * k + w/2, (cy - y) * k + h/2), in CSS pixels
  private cx = 0;
  private cy = 0;
  private k = 1;
  private fit = { cx: 0, cy: 0, k: 1 };
  private frame = 0;
  private drag: { x: number; y: number; moved: boolean; id: number } | null = null;
  private readonly resize: ResizeObserver;
  /** Points inside the view at the last draw. */
  drawn = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly events: ScatterEvents,
  ) {
    canvas.addEventListener('pointerdown', this.onPointerDown);
    canvas.addEventListener('pointermove', this.onPointerMove);
    canvas.addEventListener('pointerup', this.onPointerUp);
    canvas.addEventListener('pointerleave', this.onLeave);
    canvas.addEventListener('wheel', this.onWheel, { passive: false });
    canvas.addEventListener('keydown', this.onKey);
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(canvas);
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.canvas.removeEventListener('pointerdown', this.onPointerDown);
    this.canvas.removeEventListener('pointermove', this.onPointerMove);
    this.canvas.removeEventListener('pointerup', this.onPointerUp);
    this.canvas.removeEventListener('pointerleave', this.onLeave);
    this.canvas.removeEventListener('wheel', this.onWheel);
    this.canvas.removeEventListener('keydown', this.onKey);
  }

  /** New points: the view is fitted to them when `refit` (the first page, another kind or version). */
  setData(data: ScatterData, refit: boolean): void {
    const n = data.xs.length;
    this.pixels = Uint32Array.from(data.palette, pixelOf);
    // the quadtree is only rebuilt when the positions change, not for a new colouring
    if (!this.data || this.data.xs !== data.xs) {
      this.tree = quadtree<number>()
        .x((i) => data.xs[i])
        .y((i) => data.ys[i])
        .addAll(Array.from({ length: n }, (_, i) => i));
    }
    this.data = data;
    if (refit) this.fitView();
    this.schedule();
  }

  setHighlight(selected: number | null, related: number[]): void {
    this.selected = selected;
    this.highlight = related;
    this.schedule();
  }

  zoomBy(factor: number): void {
    this.zoomAt(this.canvas.clientWidth / 2, this.canvas.clientHeight / 2, factor);
  }

  /** Centres the view on a point, zoomed in to `zoom` times the fitted scale at least. */
  centerOn(index: number, zoom = 4): void {
    if (!this.data) return;
    this.cx = this.data.xs[index];
    this.cy = this.data.ys[index];
    this.k = Math.max(this.k, this.fit.k * zoom);
    this.schedule();
  }

  reset(): void {
    ({ cx: this.cx, cy: this.cy, k: this.k } = this.fit);
    this.schedule();
  }

  private fitView(): void {
    const { xs, ys } = this.data!;
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < xs.length; i++) {
      x0 = Math.min(x0, xs[i]);
      x1 = Math.max(x1, xs[i]);
      y0 = Math.min(y0, ys[i]);
      y1 = Math.max(y1, ys[i]);
    }
    if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [-1, 1, -1, 1];
    const w = Math.max(1, this.canvas.clientWidth - 24);
    const h = Math.max(1, this.canvas.clientHeight - 24);
    const k = Math.min(w / Math.max(x1 - x0, 1e-9), h / Math.max(y1 - y0, 1e-9));
    this.fit = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, k };
    this.reset();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    performance.mark('recoder-map-draw-start');
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const W = Math.max(1, Math.round(w * ratio));
    const H = Math.max(1, Math.round(h * ratio));
    if (canvas.width !== W || canvas.height !== H) {
      canvas.width = W;
      canvas.height = H;
    }
    const ctx = canvas.getContext('2d', { alpha: false })!;
    if (!this.image || this.image.width !== W || this.image.height !== H) this.image = ctx.createImageData(W, H);
    // the points are written as pixels into one buffer and put on the canvas at once: a canvas
    // without a GPU (headless, or software rendering) spends about a microsecond per fillRect
    const buffer = new Uint32Array(this.image.data.buffer);
    buffer.fill(WHITE);
    let drawn = 0;
    const data = this.data;
    if (data) {
      const { xs, ys, colors } = data;
      const pixels = this.pixels;
      const k = this.k * ratio;
      const ox = W / 2 - this.cx * k;
      const oy = H / 2 + this.cy * k;
      const size = Math.max(1, Math.round(POINT_SIZE * ratio));
      const half = size >> 1;
      for (let i = 0; i < xs.length; i++) {
        const x0 = Math.round(ox + xs[i] * k) - half;
        const y0 = Math.round(oy - ys[i] * k) - half;
        if (x0 + size <= 0 || y0 + size <= 0 || x0 >= W || y0 >= H) continue;
        const colour = pixels[colors[i]];
        const xa = Math.max(0, x0);
        const xb = Math.min(W, x0 + size);
        for (let y = Math.max(0, y0); y < Math.min(H, y0 + size); y++) buffer.fill(colour, y * W + xa, y * W + xb);
        drawn++;
      }
    }
    ctx.putImageData(this.image, 0, 0);
    if (data) {
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      const ox = w / 2 - this.cx * this.k;
      const oy = h / 2 + this.cy * this.k;
      const ring = (i: number, radius: number, color: string) => {
        ctx.beginPath();
        ctx.arc(ox + data.xs[i] * this.k, oy - data.ys[i] * this.k, radius, 0, 2 * Math.PI);
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        ctx.stroke();
      };
      for (const i of this.highlight) ring(i, 5, '#111111');
      if (this.selected !== null) ring(this.selected, 8, '#d1007a');
    }
    this.drawn = drawn;
    canvas.dataset.drawn = String(drawn);
    performance.measure('recoder-map-draw', 'recoder-map-draw-start');
    // observers (a profiler, the bench) have had the entry; the timeline's buffer need not keep it
    performance.clearMarks('recoder-map-draw-start');
    performance.clearMeasures('recoder-map-draw');
  }

  private pointAt(sx: number, sy: number): number | null {
    if (!this.tree || !this.data) return null;
    const x = this.cx + (sx - this.canvas.clientWidth / 2) / this.k;
    const y = this.cy - (sy - this.canvas.clientHeight / 2) / this.k;
    return this.tree.find(x, y, HIT_RADIUS / this.k) ?? null;
  }

  private zoomAt(sx: number, sy: number, factor: number): void {
    const k = Math.min(this.fit.k * MAX_ZOOM, Math.max(this.fit.k * MIN_ZOOM, this.k * factor));
    // the world point under (sx, sy) stays there
    const dx = sx - this.canvas.clientWidth / 2;
    const dy = sy - this.canvas.clientHeight / 2;
    this.cx += dx / this.k - dx / k;
    this.cy -= dy / this.k - dy / k;
    this.k = k;
    this.schedule();
  }

  private panBy(dx: number, dy: number): void {
    this.cx -= dx / this.k;
    this.cy += dy / this.k;
    this.schedule();
  }

  private readonly onPointerDown = (e: PointerEvent) => {
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = { x: e.offsetX, y: e.offsetY, moved: false, id: e.pointerId };
  };

  private readonly onPointerMove = (e: PointerEvent) => {
    if (this.drag) {
      const dx = e.offsetX - this.drag.x;
      const dy = e.offsetY - this.drag.y;
      if (this.drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
        this.drag = { ...this.drag, x: e.offsetX, y: e.offsetY, moved: true };
        this.panBy(dx, dy);
        this.events.onHover(null, 0, 0);
      }
      return;
    }
    this.events.onHover(this.pointAt(e.offsetX, e.offsetY), e.offsetX, e.offsetY);
  };

  private readonly onPointerUp = (e: PointerEvent) => {
    const drag = this.drag;
    this.drag = null;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (drag && !drag.moved) {
      const hit = this.pointAt(e.offsetX, e.offsetY);
      if (hit !== null) this.events.onSelect(hit);
    }
  };

  private readonly onLeave = () => {
    if (!this.drag) this.events.onHover(null, 0, 0);
  };

  private readonly onWheel = (e: WheelEvent) => {
    e.preventDefault();
    this.zoomAt(e.offsetX, e.offsetY, Math.exp(-e.deltaY * 0.002));
  };

  private readonly onKey = (e: KeyboardEvent) => {
    const moves: Record<string, () => void> = {
      ArrowLeft: () => this.panBy(KEY_PAN, 0),
      ArrowRight: () => this.panBy(-KEY_PAN, 0),
      ArrowUp: () => this.panBy(0, KEY_PAN),
      ArrowDown: () => this.panBy(0, -KEY_PAN),
      '+': () => this.zoomBy(1.25),
      '=': () => this.zoomBy(1.25),
      '-': () => this.zoomBy(0.8),
      '0': () => this.reset(),
    };
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    move();
  };
}
