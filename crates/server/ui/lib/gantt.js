// lib/gantt.js — the canvas Gantt renderer: lanes of operations, setups, calendars, downtime and pool load over time, with zoom, pan and hit-testing.
//
// A chart draws a model built by lib/gantt-model.js. Only what is visible is drawn: each
// lane's intervals are sorted by start with their longest duration kept, so the first one
// that can reach the left edge is found by binary search. Redraws are coalesced into one
// animation frame; the canvas is sized in device pixels. Hit-testing uses the same search,
// so no DOM element exists per operation. The painters live in lib/gantt-paint.js; panning
// copies an offscreen strip three plot-widths wide, repainted only when the zoom or what is
// drawn changes or the view leaves it.

import {
  AXIS_H, DAY, FAMILY_COLOURS, LABEL_W, MAX_PX_PER_MIN, MIN_PX_PER_MIN, ROW_H, eachVisible, formatInstant, hatch,
  lowerBound, Painting,
} from './gantt-paint.js';

export { formatInstant };

/** A sorted set of intervals: parallel typed arrays plus the items, for binary search. */
export function intervalSet(items, startOf = (x) => x.start, endOf = (x) => x.end) {
  const sorted = items.slice().sort((a, b) => startOf(a) - startOf(b));
  const n = sorted.length;
  const s = new Float64Array(n);
  const e = new Float64Array(n);
  let maxDur = 0;
  for (let i = 0; i < n; i++) {
    s[i] = startOf(sorted[i]);
    e[i] = endOf(sorted[i]);
    if (e[i] - s[i] > maxDur) maxDur = e[i] - s[i];
  }
  return { s, e, items: sorted, maxDur, length: n };
}

function hashHue(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** "3 h 20 min", "2 d 4 h". */
export function formatMinutes(m) {
  const sign = m < 0 ? '−' : '';
  m = Math.abs(Math.round(m));
  if (m < 60) return `${sign}${m} min`;
  if (m < DAY) return `${sign}${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(m / DAY);
  const h = Math.round((m % DAY) / 60);
  return `${sign}${d} d${h ? ` ${h} h` : ''}`;
}

export class GanttChart {
  /**
   * @param {HTMLElement} host an empty element the chart fills (its width is followed)
   * @param {{onSelect?: Function, testId?: string}} options
   */
  constructor(host, options = {}) {
    this.host = host;
    this.onSelect = options.onSelect || (() => {});
    this.model = null;
    this.colorBy = 'order';
    this.highlight = null;
    this.selected = null;
    this.view = { start: 0, pxPerMin: 0.1 };
    this.width = 0;
    this.height = 0;
    this.frame = 0;
    this.stats = { draws: 0, firstDrawMs: null, ops: 0, lastFrameMs: 0, drawnOps: 0, frameTimes: [] };
    this.familyIndex = new Map();
    this.labelWidths = new Map();
    this.orderColours = new Map();

    host.classList.add('gantt-host');
    host.style.position = 'relative';
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.style.display = 'block';
    this.canvas.style.width = '100%';
    this.canvas.style.touchAction = 'none';
    this.canvas.style.cursor = 'grab';
    this.canvas.dataset.test = options.testId || 'gantt-canvas';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Gantt chart');
    host.append(this.canvas);
    this.tip = document.createElement('div');
    this.tip.dataset.test = 'gantt-tooltip';
    Object.assign(this.tip.style, {
      position: 'absolute', pointerEvents: 'none', display: 'none', zIndex: 5,
      background: 'rgba(20,24,32,0.92)', color: '#fff', font: '12px system-ui, sans-serif',
      padding: '6px 8px', borderRadius: '4px', maxWidth: '320px', whiteSpace: 'pre-line',
    });
    host.append(this.tip);
    this.g = this.canvas.getContext('2d');
    this.patterns = {
      off: this.g.createPattern(hatch('rgba(120,130,145,0.35)', 'rgba(226,230,236,0.9)'), 'repeat'),
      down: this.g.createPattern(hatch('rgba(200,40,40,0.75)', 'rgba(255,220,220,0.9)'), 'repeat'),
      changeover: this.g.createPattern(hatch('rgba(190,120,0,0.9)', 'rgba(255,236,190,0.95)'), 'repeat'),
      cip: this.g.createPattern(hatch('rgba(0,120,170,0.9)', 'rgba(205,238,252,0.95)'), 'repeat'),
    };
    this.bindEvents();
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(host);
    this.resize();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resizer.disconnect();
    for (const [target, type, fn, opts] of this.listeners) target.removeEventListener(type, fn, opts);
    this.host.replaceChildren();
  }

  /** Shows `model`; with keepView the zoom and pan stay where the planner left them. */
  setModel(model, { keepView = false } = {}) {
    const first = !this.model;
    this.model = model;
    this.modelSeq = (this.modelSeq || 0) + 1;
    this.stats.ops = model.opCount;
    this.stats.modelSetAt = performance.now();
    this.stats.modelDrawnAt = null;
    this.familyIndex = new Map([...model.families].sort().map((f, i) => [f, i]));
    let y = AXIS_H;
    this.rowTops = new Float64Array(model.rows.length + 1);
    model.rows.forEach((row, i) => {
      this.rowTops[i] = y;
      y += ROW_H[row.type];
    });
    this.rowTops[model.rows.length] = y;
    this.contentHeight = y + 6;
    if (this.selected && !model.opsById.has(this.selected.id)) this.selected = null;
    else if (this.selected) this.selected = model.opsById.get(this.selected.id);
    this.resize();
    if (first || !keepView) this.fit();
    else this.invalidate();
  }

  setColorBy(mode) {
    this.colorBy = mode;
    this.invalidate();
  }

  setHighlight(order) {
    this.highlight = order || null;
    this.invalidate();
  }

  setSelected(op) {
    this.selected = op || null;
    this.invalidate();
  }

  /** The colour of a family in the family view (for legends). */
  familyColour(family) {
    const i = this.familyIndex.get(family);
    return i === undefined ? '#9aa3ad' : FAMILY_COLOURS[i % FAMILY_COLOURS.length];
  }

  colourOf(op) {
    if (this.colorBy === 'family') return this.familyColour(op.family || op.product || '');
    // Canvas parses a colour string on every assignment: one string per order, made once.
    let c = this.orderColours.get(op.order);
    if (c === undefined) {
      // 36 hues × 3 lightnesses: neighbours still differ, and a frame batches its
      // rectangles into at most 108 fills.
      const hash = hashHue(op.order || op.id);
      c = hslHex((hash % 36) * 10, 0.55, [0.5, 0.6, 0.7][(hash >>> 6) % 3]);
      this.orderColours.set(op.order, c);
    }
    return c;
  }

  /** Fits the whole schedule in the width. */
  fit() {
    if (!this.model) return;
    const [a, b] = this.model.extent;
    this.showRange(a, b);
  }

  /** Shows minutes [a, b) with a small margin. */
  showRange(a, b) {
    const span = Math.max(b - a, 30);
    const plot = Math.max(this.width - LABEL_W, 50);
    this.view.pxPerMin = clamp(plot / (span * 1.04), MIN_PX_PER_MIN, MAX_PX_PER_MIN);
    this.view.start = a - span * 0.02;
    this.invalidate();
  }

  /** Zooms so that every operation of `order` is in view. */
  focusOrder(order) {
    const ops = this.model?.orders.get(order)?.ops;
    if (!ops || ops.length === 0) return false;
    let a = Infinity;
    let b = -Infinity;
    for (const op of ops) {
      a = Math.min(a, op.start - (op.setup || 0));
      b = Math.max(b, op.end);
    }
    const span = Math.max(b - a, 240);
    this.showRange(a - span * 0.3, b + span * 0.3);
    return true;
  }

  /** Canvas point (CSS pixels) at the middle of the widest visible operation of `order`, or null. */
  locateOrder(order) {
    const ops = this.model?.orders.get(order)?.ops || [];
    let best = null;
    let bestW = 0;
    for (const op of ops) {
      const a = Math.max(this.xOf(op.start), LABEL_W);
      const b = Math.min(this.xOf(op.end), this.width);
      const i = this.model.rows.indexOf(op.row);
      if (b - a > bestW && i >= 0) {
        bestW = b - a;
        best = { x: (a + b) / 2, y: this.rowTops[i] + ROW_H.unit / 2, op: op.id };
      }
    }
    return best;
  }

  /** Marks a unit's lane (from a unit link) and answers its top in CSS pixels. */
  markUnit(unit) {
    this.markedUnit = unit || null;
    this.invalidate();
    const i = this.model ? this.model.rows.findIndex((r) => r.id === unit) : -1;
    return i < 0 ? null : this.rowTops[i];
  }

  /** Zooms by `factor` around canvas x (the plot's centre by default). */
  zoomBy(factor, x) {
    const plot = this.width - LABEL_W;
    const at = x === undefined ? LABEL_W + plot / 2 : Math.max(x, LABEL_W);
    const t = this.timeAt(at);
    this.view.pxPerMin = clamp(this.view.pxPerMin * factor, MIN_PX_PER_MIN, MAX_PX_PER_MIN);
    this.view.start = t - (at - LABEL_W) / this.view.pxPerMin;
    this.invalidate();
  }

  panBy(dx) {
    this.view.start -= dx / this.view.pxPerMin;
    this.invalidate();
  }

  timeAt(x) {
    return this.view.start + (x - LABEL_W) / this.view.pxPerMin;
  }

  xOf(t) {
    return LABEL_W + (t - this.view.start) * this.view.pxPerMin;
  }

  resize() {
    const w = Math.max(this.host.clientWidth, 320);
    const h = this.contentHeight || 200;
    const dpr = window.devicePixelRatio || 1;
    if (w === this.width && h === this.height && dpr === this.dpr) return;
    const oldPlot = this.width - LABEL_W;
    this.width = w;
    this.height = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.canvas.style.height = `${h}px`;
    // Keep the same time span in view when the width changes.
    if (oldPlot > 0 && this.model) this.view.pxPerMin *= (w - LABEL_W) / oldPlot;
    this.invalidate();
  }

  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  // ---- drawing -------------------------------------------------------------------------

  draw() {
    const t0 = performance.now();
    const g = this.g;
    const { width: w, height: h } = this;
    g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, h);
    if (!this.model) return;
    const from = this.timeAt(LABEL_W);
    const to = this.timeAt(w);
    const plotW = w - LABEL_W;
    const key = `${this.modelSeq}|${this.colorBy}|${this.highlight}|${this.selected?.id}|${this.markedUnit}|${w}|${h}|${this.dpr}`;
    let c = this.cache;
    if (!c || c.key !== key || c.ppm !== this.view.pxPerMin || from < c.start || to > c.end) {
      c = this.renderCache(from, plotW, key);
    }
    // Panning only moves the cached strip: one image copy a frame, however many operations.
    const dpr = this.dpr;
    const sx = Math.max(0, Math.round((from - c.start) * c.ppm * dpr));
    g.drawImage(c.canvas, sx, 0, Math.round(plotW * dpr), Math.round(h * dpr), LABEL_W, 0, plotW, h);
    this.drawLabels();
    this.drawAxis(from, to);

    const ms = performance.now() - t0;
    const s = this.stats;
    s.draws++;
    s.lastFrameMs = ms;
    s.drawnOps = c.drawn;
    s.frameTimes.push(ms);
    if (s.frameTimes.length > 500) s.frameTimes.splice(0, s.frameTimes.length - 500);
    if (s.modelDrawnAt === null) s.modelDrawnAt = performance.now();
    if (s.firstDrawMs === null && this.model.opCount > 0) {
      s.firstDrawMs = performance.now();
      performance.mark?.('mixplane-gantt-first-draw');
    }
  }

  // ---- hit-testing and events -----------------------------------------------------------

  /** What is under canvas point (x, y): an operation, a setup, downtime, off time or a pool. */
  hitTest(x, y) {
    if (!this.model || x < LABEL_W || y < AXIS_H) return null;
    const tops = this.rowTops;
    let lo = 0;
    let hi = this.model.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tops[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    const row = this.model.rows[lo];
    if (!row || row.type === 'group') return null;
    const t = this.timeAt(x);
    const tol = 3 / this.view.pxPerMin;
    const find = (set) => {
      let best = null;
      let bestDist = Infinity;
      eachVisible(set, t - tol, t + tol, (i) => {
        const inside = set.s[i] <= t && set.e[i] > t;
        const dist = inside ? 0 : Math.min(Math.abs(set.s[i] - t), Math.abs(set.e[i] - t));
        if (dist < bestDist) {
          bestDist = dist;
          best = set.items[i];
        }
      });
      return best;
    };
    if (row.type === 'pool') {
      const i = Math.max(lowerBound(row.load.t, t + 1e-9) - 1, 0);
      const j = Math.max(lowerBound(row.capacity.t, t + 1e-9) - 1, 0);
      return { kind: 'pool', row, t, load: row.load.v[i] || 0, capacity: row.capacity.v[j] ?? row.maxCapacity };
    }
    const op = find(row.ops);
    if (op) return { kind: 'op', row, op, t };
    const setup = find(row.setups);
    if (setup) return { kind: 'setup', row, setup, t };
    const down = find(row.down);
    if (down) return { kind: 'down', row, down, t };
    const off = find(row.off);
    if (off) return { kind: 'off', row, off, t };
    return { kind: 'lane', row, t };
  }

  describe(hit) {
    const at = (m) => formatInstant(this.model.origin + m * 60000);
    switch (hit.kind) {
      case 'op': {
        const o = hit.op;
        return [
          `${o.id} · ${o.unit}`,
          `order ${o.order}${o.family ? ` · ${o.family}` : ''}${o.product ? ` · ${o.product}` : ''}`,
          `${at(o.start)} → ${at(o.end)} (${formatMinutes(o.end - o.start)})`,
          o.late ? `late: ${formatMinutes(o.late)} behind its due date — click for why` : '',
        ].filter(Boolean).join('\n');
      }
      case 'setup': {
        const s = hit.setup;
        const parts = [];
        if (s.changeover) parts.push(`changeover ${s.changeover.from} → ${s.changeover.to} (${formatMinutes(s.changeover.minutes)})`);
        if (s.cip) parts.push(`CIP ${formatMinutes(s.cip)}${s.cipReason ? ` (${s.cipReason})` : ''}`);
        return `${parts.join('\n')}\nbefore ${s.op} on ${hit.row.id}\n${at(s.start)} → ${at(s.end)}`;
      }
      case 'down':
        return `${hit.row.id} down${hit.down.reason ? `: ${hit.down.reason}` : ''}\n${at(hit.down.start)} → ${at(hit.down.end)}`;
      case 'off':
        return `${hit.row.id} outside its shifts\n${at(hit.off.start)} → ${at(hit.off.end)}`;
      case 'pool':
        return `${hit.row.label}: ${hit.load} of ${hit.capacity} in use\n${at(hit.t)}`;
      default:
        return '';
    }
  }

  listen(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this.listeners.push([target, type, fn, opts]);
  }

  bindEvents() {
    this.listeners = [];
    const c = this.canvas;
    let drag = null;
    let hoverFrame = 0;
    let lastMove = null;
    const local = (ev) => {
      const r = c.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top];
    };
    this.listen(c, 'pointerdown', (ev) => {
      if (ev.button !== 0) return;
      const [x, y] = local(ev);
      drag = { x, y, start: this.view.start, moved: false, id: ev.pointerId };
      c.setPointerCapture?.(ev.pointerId);
      c.style.cursor = 'grabbing';
      this.tip.style.display = 'none';
    });
    this.listen(c, 'pointermove', (ev) => {
      const [x, y] = local(ev);
      if (drag) {
        const dx = x - drag.x;
        if (Math.abs(dx) > 3 || Math.abs(y - drag.y) > 3) drag.moved = true;
        if (drag.moved) {
          this.view.start = drag.start - dx / this.view.pxPerMin;
          this.invalidate();
        }
        return;
      }
      lastMove = [x, y];
      if (!hoverFrame) {
        hoverFrame = requestAnimationFrame(() => {
          hoverFrame = 0;
          this.hover(...lastMove);
        });
      }
    });
    const end = (ev) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      c.style.cursor = 'grab';
      c.releasePointerCapture?.(ev.pointerId);
      if (!d.moved && ev.type === 'pointerup') {
        const [x, y] = local(ev);
        const hit = this.hitTest(x, y);
        if (hit?.kind === 'op') this.setSelected(hit.op);
        this.onSelect(hit);
      }
    };
    this.listen(c, 'pointerup', end);
    this.listen(c, 'pointercancel', end);
    this.listen(c, 'pointerleave', () => {
      this.tip.style.display = 'none';
    });
    this.listen(c, 'wheel', (ev) => {
      ev.preventDefault();
      const [x] = local(ev);
      // A trackpad's sideways swipe or shift+wheel pans; the wheel itself zooms.
      if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        this.panBy(-(ev.deltaX || ev.deltaY));
      } else {
        const unit = ev.deltaMode === 1 ? 16 : 1;
        this.zoomBy(Math.exp(-ev.deltaY * unit * 0.0015), x);
      }
    }, { passive: false });
    this.listen(c, 'keydown', (ev) => {
      const keys = {
        '+': () => this.zoomBy(1.5), '=': () => this.zoomBy(1.5), '-': () => this.zoomBy(1 / 1.5),
        ArrowLeft: () => this.panBy(80), ArrowRight: () => this.panBy(-80), '0': () => this.fit(),
      };
      if (keys[ev.key]) {
        ev.preventDefault();
        keys[ev.key]();
      }
    });
  }

  hover(x, y) {
    const hit = this.hitTest(x, y);
    const text = hit ? this.describe(hit) : '';
    if (!text) {
      this.tip.style.display = 'none';
      this.canvas.style.cursor = 'grab';
      return;
    }
    this.canvas.style.cursor = hit.kind === 'op' ? 'pointer' : 'grab';
    this.tip.textContent = text;
    this.tip.style.display = 'block';
    const left = Math.min(x + 14, this.width - 330);
    this.tip.style.left = `${Math.max(left, 0)}px`;
    this.tip.style.top = `${y + 16}px`;
  }
}

function hslHex(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return `#${[f(0), f(8), f(4)].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

function clamp(v, lo, hi) {
  return Math.min(Math.max(v, lo), hi);
}

//END

for (const name of Object.getOwnPropertyNames(Painting.prototype)) {
  if (name !== 'constructor') GanttChart.prototype[name] = Painting.prototype[name];
}
