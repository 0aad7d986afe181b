// lib/gantt-paint.js — how lib/gantt.js paints: lanes, setups, calendars, pool load, labels and the time axis, batched per frame into an offscreen strip.
//
// The painters are methods of GanttChart (mixed into its prototype) so they share its view and
// model; they are kept here so each file stays readable.

export const LABEL_W = 184;
export const AXIS_H = 40;
export const ROW_H = { group: 20, unit: 26, pool: 34 };
export const MIN_PX_PER_MIN = 1e-4;
export const MAX_PX_PER_MIN = 40;
export const DAY = 1440;
export const TICKS = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];
export const FAMILY_COLOURS = [
  '#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f',
  '#af7aa1', '#86bcb6', '#d37295', '#8cd17d', '#499894', '#f1ce63', '#a0cbe8', '#ffbe7d',
];

/** Index of the first interval whose start is >= t. */
export function lowerBound(arr, t) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Calls fn(i) for every interval of `set` overlapping [from, to). */
export function eachVisible(set, from, to, fn) {
  if (!set || set.length === 0) return 0;
  let i = lowerBound(set.s, from - set.maxDur);
  let count = 0;
  for (; i < set.length && set.s[i] < to; i++) {
    if (set.e[i] > from) {
      fn(i);
      count++;
    }
  }
  return count;
}

export function hatch(colour, back) {
  const c = document.createElement('canvas');
  c.width = 8;
  c.height = 8;
  const g = c.getContext('2d');
  if (back) {
    g.fillStyle = back;
    g.fillRect(0, 0, 8, 8);
  }
  g.strokeStyle = colour;
  g.lineWidth = 1.5;
  g.beginPath();
  g.moveTo(-2, 10);
  g.lineTo(10, -2);
  g.moveTo(-2, 2);
  g.lineTo(2, -2);
  g.moveTo(6, 10);
  g.lineTo(10, 6);
  g.stroke();
  return c;
}

const pad2 = (n) => String(n).padStart(2, '0');
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Mon 16 Mar 06:08" in UTC, the plant's clock. */
export function formatInstant(ms, withDay = true) {
  const d = new Date(ms);
  const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  if (!withDay) return hm;
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${hm}`;
}

export function fitText(g, text, maxW) {
  if (g.measureText(text).width <= maxW) return text;
  let s = text;
  while (s.length > 2 && g.measureText(`${s}…`).width > maxW) s = s.slice(0, -1);
  return `${s}…`;
}

/** The painting methods of GanttChart (copied onto its prototype by lib/gantt.js). */
export class Painting {
  /**
   * Draws the lanes over three widths of the plot (at most 8192 device pixels) into an
   * offscreen strip centred on the view; the strip is reused while the zoom and the state
   * drawn stay the same and the view stays inside it.
   */
  renderCache(from, plotW, key) {
    const dpr = this.dpr;
    const ppm = this.view.pxPerMin;
    const span = Math.max(plotW, Math.min(plotW * 3, Math.floor(8192 / dpr)));
    const start = from - (span - plotW) / 2 / ppm;
    let c = this.cache;
    const cw = Math.round(span * dpr);
    const ch = Math.round(this.height * dpr);
    if (!c || c.canvas.width !== cw || c.canvas.height !== ch) {
      const canvas = document.createElement('canvas');
      canvas.width = cw;
      canvas.height = ch;
      c = { canvas, ctx: canvas.getContext('2d') };
    }
    const saved = [this.g, this.view.start, this.width];
    const g = c.ctx;
    this.g = g;
    this.view.start = start;
    this.width = LABEL_W + span;
    let drawn = 0;
    try {
      g.setTransform(dpr, 0, 0, dpr, -LABEL_W * dpr, 0);
      g.fillStyle = '#fff';
      g.fillRect(LABEL_W, 0, span, this.height);
      const cFrom = start;
      const cTo = start + span / ppm;
      this.drawGrid(cFrom, cTo);
      if (this.markedUnit) {
        const i = this.model.rows.findIndex((r) => r.id === this.markedUnit);
        if (i >= 0) {
          g.fillStyle = 'rgba(255,215,0,0.18)';
          g.fillRect(LABEL_W, this.rowTops[i], span, ROW_H.unit);
        }
      }
      const rows = this.model.rows;
      const batch = this.newBatch();
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        const y = this.rowTops[i];
        const rh = ROW_H[row.type];
        if (row.type === 'unit') drawn += this.drawUnit(row, y, rh, cFrom, cTo, batch);
        else if (row.type === 'pool') this.drawPool(row, y, rh, cFrom, cTo);
      }
      this.flushBatch(batch);
      this.drawSelection();
      this.drawNow(this.height);
    } finally {
      [this.g, this.view.start, this.width] = saved;
    }
    Object.assign(c, { start, end: start + span / ppm, ppm, key, drawn });
    this.cache = c;
    this.stats.cacheRenders = (this.stats.cacheRenders || 0) + 1;
    return c;
  }

  drawGrid(from, to) {
    const g = this.g;
    const step = this.tickStep();
    g.lineWidth = 1;
    const first = Math.floor((from + this.model.originOffset) / step) * step - this.model.originOffset;
    for (let t = first; t < to; t += step) {
      const x = Math.round(this.xOf(t)) + 0.5;
      const dayLine = ((t + this.model.originOffset) % DAY + DAY) % DAY === 0;
      g.strokeStyle = dayLine ? '#c9d0d8' : '#eef1f4';
      g.beginPath();
      g.moveTo(x, AXIS_H);
      g.lineTo(x, this.height);
      g.stroke();
    }
    // Group header bands.
    g.fillStyle = '#f3f5f8';
    this.model.rows.forEach((row, i) => {
      if (row.type === 'group') g.fillRect(LABEL_W, this.rowTops[i], this.width, ROW_H.group);
    });
  }

  /** Per-frame batches: one path per fill style, so a frame costs a few fills, not one per rectangle. */
  newBatch() {
    return {
      off: new Path2D(), down: new Path2D(), changeover: new Path2D(), cip: new Path2D(), lines: new Path2D(),
      fills: new Map(), dim: new Map(), outlines: new Path2D(), lateStrips: new Path2D(), lateOutlines: new Path2D(),
      hl: new Path2D(), labels: [],
    };
  }

  flushBatch(b) {
    const g = this.g;
    g.fillStyle = this.patterns.off;
    g.fill(b.off);
    g.fillStyle = this.patterns.down;
    g.fill(b.down);
    g.fillStyle = this.patterns.changeover;
    g.fill(b.changeover);
    g.fillStyle = this.patterns.cip;
    g.fill(b.cip);
    g.strokeStyle = '#e4e8ed';
    g.lineWidth = 1;
    g.stroke(b.lines);
    for (const [colour, path] of b.fills) {
      g.fillStyle = colour;
      g.fill(path);
    }
    if (b.dim.size) {
      g.globalAlpha = 0.22;
      for (const [colour, path] of b.dim) {
        g.fillStyle = colour;
        g.fill(path);
      }
      g.globalAlpha = 1;
    }
    g.strokeStyle = 'rgba(0,0,0,0.25)';
    g.stroke(b.outlines);
    g.fillStyle = '#d62728';
    g.fill(b.lateStrips);
    g.strokeStyle = '#d62728';
    g.lineWidth = 1.5;
    g.stroke(b.lateOutlines);
    g.strokeStyle = '#111';
    g.lineWidth = 2;
    g.stroke(b.hl);
    for (const [text, x, y, w] of b.labels) this.drawLabel(text, x, y, w);
  }

  drawUnit(row, y, rh, from, to, b) {
    const top = y + 3;
    const hh = rh - 6;
    const ppm = this.view.pxPerMin;
    const x0 = LABEL_W;
    const vs = this.view.start;
    const rects = (set, path, y1, h1, minW) => eachVisible(set, from, to, (i) => {
      path.rect(x0 + (set.s[i] - vs) * ppm, y1, Math.max((set.e[i] - set.s[i]) * ppm, minW), h1);
    });
    rects(row.off, b.off, y, rh, 1);
    rects(row.down, b.down, y + 1, rh - 2, 1.5);
    eachVisible(row.setups, from, to, (i) => {
      const it = row.setups.items[i];
      const path = it.cip && !it.changeover ? b.cip : b.changeover;
      path.rect(x0 + (row.setups.s[i] - vs) * ppm, top, Math.max((row.setups.e[i] - row.setups.s[i]) * ppm, 1), hh);
    });
    b.lines.moveTo(x0, y + rh - 0.5);
    b.lines.lineTo(this.width, y + rh - 0.5);

    const ops = row.ops;
    const hl = this.highlight;
    const labels = ppm * 60 > 14; // labels only once an hour is wider than a few letters
    let lastX = -1;
    let lastColour = '';
    const n = eachVisible(ops, from, to, (i) => {
      const op = ops.items[i];
      let a = x0 + (ops.s[i] - vs) * ppm;
      let wpx = (ops.e[i] - ops.s[i]) * ppm;
      const colour = this.colourOf(op);
      // Zoomed far out, operations thinner than a pixel that fall on the pixel already
      // painted with the same colour add nothing: skip them.
      if (wpx < 1) {
        const px = a | 0;
        if (px === lastX && colour === lastColour && !op.late) return;
        lastX = px;
        lastColour = colour;
        wpx = 1;
      }
      const dim = hl && op.order !== hl;
      const fills = dim ? b.dim : b.fills;
      let path = fills.get(colour);
      if (!path) {
        path = new Path2D();
        fills.set(colour, path);
      }
      path.rect(a, top, wpx, hh);
      if (op.late && !dim) {
        b.lateStrips.rect(a, top, wpx, 3);
        if (wpx > 3) b.lateOutlines.rect(a + 0.75, top + 0.75, wpx - 1.5, hh - 1.5);
      } else if (wpx > 6 && !dim) {
        b.outlines.rect(a + 0.5, top + 0.5, wpx - 1, hh - 1);
      }
      if (hl && !dim) b.hl.rect(a - 1, top - 1, wpx + 2, hh + 2);
      if (labels && wpx > 34 && !dim) {
        if (a < x0) {
          wpx -= x0 - a;
          a = x0;
        }
        b.labels.push([op.order || op.id, a + 4, top + hh / 2 + 4, wpx - 7]);
      }
    });
    return n;
  }

  drawSelection() {
    const sel = this.selected;
    if (!sel || !sel.row) return;
    const i = this.model.rows.indexOf(sel.row);
    if (i < 0) return;
    const g = this.g;
    const top = this.rowTops[i] + 3;
    const hh = ROW_H.unit - 6;
    const a = this.xOf(sel.start);
    g.strokeStyle = '#000';
    g.lineWidth = 2.5;
    g.setLineDash([4, 2]);
    g.strokeRect(a - 2, top - 2, Math.max((sel.end - sel.start) * this.view.pxPerMin, 2) + 4, hh + 4);
    g.setLineDash([]);
  }

  drawLabel(text, x, y, maxW) {
    const g = this.g;
    g.font = '11px system-ui, sans-serif';
    let w = this.labelWidths.get(text);
    if (w === undefined) {
      w = g.measureText(text).width;
      this.labelWidths.set(text, w);
    }
    let shown = text;
    if (w > maxW) {
      const chars = Math.floor((text.length * maxW) / w) - 1;
      if (chars < 3) return;
      shown = `${text.slice(0, chars)}…`;
    }
    g.fillStyle = '#111';
    g.fillText(shown, x, y);
  }

  drawPool(row, y, rh, from, to) {
    const g = this.g;
    const base = y + rh - 3;
    const scale = (rh - 8) / Math.max(row.maxCapacity, 1);
    const ppm = this.view.pxPerMin;
    const vs = this.view.start;
    const x0 = LABEL_W;
    // Capacity over time (calendar and dips applied), then the load over it; load above
    // the capacity shows red.
    const stepPath = (steps) => {
      const t = steps.t;
      const v = steps.v;
      let i = Math.max(lowerBound(t, from) - 1, 0);
      g.beginPath();
      g.moveTo(Math.max(x0 + (t[i] - vs) * ppm, x0 - 2), base);
      for (; i < t.length && t[i] < to; i++) {
        const xa = x0 + (t[i] - vs) * ppm;
        const xb = i + 1 < t.length ? x0 + (t[i + 1] - vs) * ppm : this.width + 2;
        const yy = base - v[i] * scale;
        g.lineTo(Math.max(xa, x0 - 2), yy);
        g.lineTo(Math.min(xb, this.width + 2), yy);
      }
      g.lineTo(this.width + 2, base);
      g.closePath();
    };
    if (row.capacity.t.length) {
      stepPath(row.capacity);
      g.fillStyle = '#e9eef3';
      g.fill();
    }
    if (row.load.t.length) {
      stepPath(row.load);
      g.fillStyle = 'rgba(46,134,122,0.75)';
      g.fill();
    }
    g.fillStyle = 'rgba(214,39,40,0.85)';
    eachVisible(row.over, from, to, (i) => {
      const a = x0 + (row.over.s[i] - vs) * ppm;
      g.fillRect(a, y + 2, Math.max((row.over.e[i] - row.over.s[i]) * ppm, 1.5), 4);
    });
    g.strokeStyle = '#e4e8ed';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(x0, y + rh - 0.5);
    g.lineTo(this.width, y + rh - 0.5);
    g.stroke();
  }

  drawNow(h) {
    const now = this.model.now;
    if (now === null || now === undefined) return;
    const x = this.xOf(now);
    if (x < LABEL_W || x > this.width) return;
    const g = this.g;
    g.strokeStyle = '#d62728';
    g.lineWidth = 1.5;
    g.setLineDash([5, 3]);
    g.beginPath();
    g.moveTo(x, AXIS_H - 6);
    g.lineTo(x, h);
    g.stroke();
    g.setLineDash([]);
  }

  drawLabels() {
    const g = this.g;
    g.fillStyle = '#fafbfc';
    g.fillRect(0, 0, LABEL_W, this.height);
    g.strokeStyle = '#c9d0d8';
    g.beginPath();
    g.moveTo(LABEL_W - 0.5, 0);
    g.lineTo(LABEL_W - 0.5, this.height);
    g.stroke();
    this.model.rows.forEach((row, i) => {
      const y = this.rowTops[i];
      const rh = ROW_H[row.type];
      if (row.type === 'group') {
        g.fillStyle = '#e8ecf1';
        g.fillRect(0, y, LABEL_W, rh);
        g.font = '600 11px system-ui, sans-serif';
        g.fillStyle = '#334';
        g.fillText(fitText(g, row.label, this.width - 12), 6, y + 14);
        return;
      }
      g.font = row.id === this.markedUnit ? '600 12px system-ui, sans-serif' : '12px system-ui, sans-serif';
      g.fillStyle = '#222';
      const label = row.label;
      g.fillText(fitText(g, label, LABEL_W - (row.state ? 26 : 12)), 8, y + (row.type === 'pool' ? 14 : 17));
      if (row.type === 'pool') {
        g.font = '10px system-ui, sans-serif';
        g.fillStyle = '#667';
        g.fillText(fitText(g, row.sub || '', LABEL_W - 12), 8, y + 27);
      }
      if (row.state) {
        g.fillStyle = { down: '#d62728', running: '#2ca02c', cleaning: '#1f77b4', idle: '#aab' }[row.state] || '#aab';
        g.beginPath();
        g.arc(LABEL_W - 12, y + rh / 2, 4, 0, Math.PI * 2);
        g.fill();
      }
      g.strokeStyle = '#e4e8ed';
      g.beginPath();
      g.moveTo(0, y + rh - 0.5);
      g.lineTo(LABEL_W, y + rh - 0.5);
      g.stroke();
    });
  }

  tickStep() {
    const ppm = this.view.pxPerMin;
    for (const s of TICKS) if (s * ppm >= 64) return s;
    return TICKS[TICKS.length - 1] * Math.ceil(64 / (TICKS[TICKS.length - 1] * ppm));
  }

  drawAxis(from, to) {
    const g = this.g;
    const off = this.model.originOffset;
    const origin = this.model.origin;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, this.width, AXIS_H);
    g.strokeStyle = '#c9d0d8';
    g.beginPath();
    g.moveTo(0, AXIS_H - 0.5);
    g.lineTo(this.width, AXIS_H - 0.5);
    g.stroke();
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#556';
    g.fillText('plant time (UTC)', 8, 16);
    g.save();
    g.beginPath();
    g.rect(LABEL_W, 0, this.width - LABEL_W, AXIS_H);
    g.clip();
    // Days (or weeks far out) on the upper row.
    const dayPx = DAY * this.view.pxPerMin;
    const big = dayPx >= 70 ? DAY : 7 * DAY;
    const firstDay = Math.floor((from + off) / big) * big - off;
    g.font = '600 11px system-ui, sans-serif';
    for (let t = firstDay; t < to; t += big) {
      const x = this.xOf(t);
      g.fillStyle = '#223';
      const ms = origin + t * 60000;
      const d = new Date(ms);
      const text = big === DAY || dayPx * 7 < 90
        ? `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`
        : `week of ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
      g.fillText(text, Math.max(x + 4, LABEL_W + 4), 15);
      g.strokeStyle = '#c9d0d8';
      g.beginPath();
      g.moveTo(Math.round(x) + 0.5, 0);
      g.lineTo(Math.round(x) + 0.5, AXIS_H);
      g.stroke();
    }
    const step = this.tickStep();
    if (step < DAY) {
      g.font = '10px system-ui, sans-serif';
      g.fillStyle = '#667';
      const first = Math.floor((from + off) / step) * step - off;
      for (let t = first; t < to; t += step) {
        const x = this.xOf(t);
        g.fillText(formatInstant(origin + t * 60000, false), x + 3, 32);
        g.strokeStyle = '#dde2e8';
        g.beginPath();
        g.moveTo(Math.round(x) + 0.5, 22);
        g.lineTo(Math.round(x) + 0.5, AXIS_H);
        g.stroke();
      }
    }
    g.restore();
  }
}
