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
 * map needs 20,000+ points redrawn per frame while panning, which a plain canvas does in a few
 * milliseconds (points drawn colour by colour, one fillStyle each) and SVG- or DOM-based charts do
 * not. Frames are coalesced with requestAnimationFrame; each draw is a User Timing measure
 * ("recoder-map-draw") that a PerformanceObserver (a profiler, the bench) receives.
 */
export class ScatterPlot {
  private data: ScatterData | null = null;
  /** Points grouped by colour, so a frame sets each fillStyle once. */
  private byColor: Uint32Array[] = [];
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
    const counts = new Uint32Array(data.palette.length);
    for (let i = 0; i < n; i++) counts[data.colors[i]]++;
    this.byColor = Array.from(counts, (c) => new Uint32Array(c));
    const fill = new Uint32Array(data.palette.length);
    for (let i = 0; i < n; i++) this.byColor[data.colors[i]][fill[data.colors[i]]++] = i;
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
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    const ctx = canvas.getContext('2d', { alpha: false })!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, h);
    let drawn = 0;
    const data = this.data;
    if (data) {
      const { xs, ys, palette } = data;
      const { cx, cy, k } = this;
      const ox = w / 2 - cx * k;
      const oy = h / 2 + cy * k;
      const half = POINT_SIZE / 2;
      ctx.globalAlpha = 0.75;
      this.byColor.forEach((indices, color) => {
        ctx.fillStyle = palette[color];
        for (let j = 0; j < indices.length; j++) {
          const i = indices[j];
          const sx = ox + xs[i] * k;
          const sy = oy - ys[i] * k;
          if (sx < -half || sy < -half || sx > w + half || sy > h + half) continue;
          ctx.fillRect(sx - half, sy - half, POINT_SIZE, POINT_SIZE);
          drawn++;
        }
      });
      ctx.globalAlpha = 1;
      const ring = (i: number, radius: number, color: string) => {
        ctx.beginPath();
        ctx.arc(ox + xs[i] * k, oy - ys[i] * k, radius, 0, 2 * Math.PI);
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
