// The SVG control chart of the quality page: points, centre line, control and specification limits, violations, hover.

import { svg } from './dom.js';

/** A number short enough for an axis label, precise enough to tell limits apart. */
export function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** "Nice" axis ticks over [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
function linearTicks(lo, hi, count = 6) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Log-axis ticks: the 1-2-5 values of each decade in range, or linear ticks mapped when the range is narrower than a decade. */
function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out.length >= 3 ? out : linearTicks(lo, hi, 5).filter((v) => v > 0);
}

/**
 * Draws `chart` (the API's ChartView) into `host` and returns the SVG.
 * opts: { lsl, usl, uom, log, renderTip(point) → Node, width, height }.
 * Points violating a rule or beyond a limit carry `data-test="violation"`; the hover tip
 * is an HTML element so its entity links are real links.
 */
export function drawControlChart(host, chart, opts = {}) {
  host.replaceChildren();
  host.style.position = 'relative';
  const points = chart.points || [];
  const W = opts.width || Math.max(640, host.clientWidth || 900);
  const H = opts.height || 340;
  const M = { l: 64, r: 96, t: 16, b: 40 };
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, width: '100%', class: 'control-chart', role: 'img',
    'data-test': 'control-chart', 'aria-label': `control chart of ${chart.characteristic}`,
  });
  host.append(root);
  if (!points.length) {
    root.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'muted' },
      chart.status === 'phase1' ? `Phase I: ${chart.pending_phase1} points collected, limits not frozen yet` : 'No points charted'));
    return root;
  }

  const log = !!opts.log;
  const values = [];
  for (const p of points) values.push(p.value, p.limits.center, p.limits.lcl, p.limits.ucl);
  for (const s of [opts.lsl, opts.usl]) if (Number.isFinite(s)) values.push(s);
  let finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  const f = log ? Math.log : (v) => v;
  const pad = (f(hi) - f(lo)) * 0.06 || 1;
  const ylo = f(lo) - pad;
  const yhi = f(hi) + pad;
  const y = (v) => {
    const t = log ? Math.log(Math.max(v, Number.MIN_VALUE)) : v;
    return M.t + ph - ((t - ylo) / (yhi - ylo)) * ph;
  };
  const n = points.length;
  const x = (i) => M.l + (n === 1 ? pw / 2 : (i / (n - 1)) * pw);

  // Axes and grid.
  // Presentation attributes keep the chart legible without a stylesheet; app.css may override.
  const axis = svg('g', { class: 'axis', 'font-size': 11, fill: '#5b6470' });
  const ticks = log ? logTicks(Math.exp(ylo), Math.exp(yhi)) : linearTicks(ylo, yhi);
  for (const t of ticks) {
    const ty = y(t);
    if (ty < M.t - 1 || ty > M.t + ph + 1) continue;
    axis.append(svg('line', { x1: M.l, x2: M.l + pw, y1: ty, y2: ty, class: 'grid', stroke: '#e6e8eb' }));
    axis.append(svg('text', { x: M.l - 6, y: ty + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  axis.append(svg('line', { x1: M.l, x2: M.l, y1: M.t, y2: M.t + ph, class: 'axis-line', stroke: '#9aa3ad' }));
  axis.append(svg('line', { x1: M.l, x2: M.l + pw, y1: M.t + ph, y2: M.t + ph, class: 'axis-line', stroke: '#9aa3ad' }));
  const xt = Math.min(6, n);
  for (let k = 0; k < xt; k++) {
    const i = Math.round((k / Math.max(1, xt - 1)) * (n - 1));
    const at = new Date(points[i].at);
    const label = `${at.toISOString().slice(5, 10)} ${at.toISOString().slice(11, 16)}`;
    axis.append(svg('text', { x: x(i), y: M.t + ph + 16, 'text-anchor': 'middle' }, label));
  }
  axis.append(svg('text', { x: 14, y: M.t + ph / 2, transform: `rotate(-90 14 ${M.t + ph / 2})`, 'text-anchor': 'middle' },
    `${chart.chart}${opts.uom ? ` (${opts.uom})` : ''}${log ? ', log scale' : ''}`));
  root.append(axis);

  // Limits as step lines: p and u charts move their limits with the sample size.
  const step = (key) => {
    let d = '';
    points.forEach((p, i) => {
      const v = p.limits[key];
      if (!Number.isFinite(v) || (log && v <= 0)) return;
      const x0 = n === 1 ? M.l : i === 0 ? x(0) : (x(i - 1) + x(i)) / 2;
      const x1 = n === 1 ? M.l + pw : i === n - 1 ? x(i) : (x(i) + x(i + 1)) / 2;
      d += `${d ? 'L' : 'M'}${x0.toFixed(1)},${y(v).toFixed(1)}L${x1.toFixed(1)},${y(v).toFixed(1)}`;
    });
    return d;
  };
  const last = points[n - 1].limits;
  const labels = []; // right-margin labels, spread apart below so close limits stay readable
  const lines = [
    ['ucl', 'limit ucl', `UCL ${fmt(last.ucl)}`, '#c0392b', '6 4'],
    ['center', 'limit center', `CL ${fmt(last.center)}`, '#2e7d32', null],
    ['lcl', 'limit lcl', `LCL ${fmt(last.lcl)}`, '#c0392b', '6 4'],
  ];
  for (const [key, cls, label, colour, dash] of lines) {
    const d = step(key);
    if (!d) continue;
    root.append(svg('path', { d, class: cls, fill: 'none', stroke: colour, 'stroke-width': 1.3, 'stroke-dasharray': dash, 'data-test': `limit-${key}` }));
    labels.push({ y: y(last[key]) + 4, text: label, cls: `limit-label ${cls}`, fill: colour });
  }
  for (const [key, v] of [['lsl', opts.lsl], ['usl', opts.usl]]) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    root.append(svg('line', { x1: M.l, x2: M.l + pw, y1: y(v), y2: y(v), class: `spec ${key}`, stroke: '#e67e22', 'stroke-width': 1.5, 'stroke-dasharray': '10 3 2 3', 'data-test': `spec-${key}` }));
    labels.push({ y: y(v) + 4, text: `${key.toUpperCase()} ${fmt(v)}`, cls: `limit-label spec ${key}`, fill: '#b9600f' });
  }
  labels.sort((a, b) => a.y - b.y);
  for (let i = 1; i < labels.length; i++) labels[i].y = Math.max(labels[i].y, labels[i - 1].y + 12);
  for (const l of labels) root.append(svg('text', { x: M.l + pw + 4, y: l.y, class: l.cls, fill: l.fill, 'font-size': 11 }, l.text));

  // Phase I points are drawn lighter: their limits were still being established.
  let d = '';
  points.forEach((p, i) => {
    if (!Number.isFinite(p.value) || (log && p.value <= 0)) return;
    d += `${d ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
  });
  root.append(svg('path', { d, class: 'series', fill: 'none', stroke: '#3b6ea8', 'stroke-width': 1, 'stroke-linejoin': 'round' }));
  const dots = svg('g', { class: 'points' });
  const small = n > 300;
  points.forEach((p, i) => {
    const bad = p.beyond_limits || (p.rules && p.rules.length) || p.dispersion_out_of_control;
    if (small && !bad) return;
    const cls = `pt${p.phase === 1 ? ' phase1' : ''}${bad ? ' violation' : ''}${p.beyond_limits ? ' beyond' : ''}`;
    const fill = bad ? (p.beyond_limits ? '#c0392b' : '#e67e22') : p.phase === 1 ? '#a9bcd6' : '#3b6ea8';
    const c = svg('circle', { cx: x(i), cy: y(p.value), r: bad ? 4.5 : 2.5, class: cls, fill, stroke: bad ? '#fff' : 'none', 'data-index': i });
    if (bad) {
      c.setAttribute('data-test', 'violation');
      const why = [...(p.rules || []).map((r) => `rule ${r}`)];
      if (p.beyond_limits) why.unshift('beyond a limit');
      if (p.dispersion_out_of_control) why.push('dispersion');
      c.append(svg('title', {}, why.join(', ')));
    }
    dots.append(c);
  });
  root.append(dots);

  // Hover: the nearest point by x, so a dense chart needs no circle per point.
  const cursor = svg('circle', { r: 7, class: 'hover-ring', visibility: 'hidden', fill: 'none', stroke: '#222', 'stroke-width': 1.5, 'pointer-events': 'none' });
  root.append(cursor);
  const tip = document.createElement('div');
  tip.className = 'chart-tip';
  tip.dataset.test = 'chart-tip';
  tip.hidden = true;
  Object.assign(tip.style, {
    position: 'absolute', zIndex: 5, background: 'var(--panel, #fff)', border: '1px solid #c7ccd3',
    borderRadius: '4px', padding: '6px 8px', fontSize: '12px', boxShadow: '0 2px 8px rgba(0,0,0,.15)', maxWidth: '320px',
  });
  host.append(tip);
  let pinned = -1;
  let shown = -1;
  const show = (i) => {
    if (i === shown) return;
    shown = i;
    const p = points[i];
    cursor.setAttribute('cx', x(i));
    cursor.setAttribute('cy', y(p.value));
    cursor.setAttribute('visibility', 'visible');
    tip.replaceChildren(opts.renderTip ? opts.renderTip(p) : document.createTextNode(fmt(p.value)));
    tip.hidden = false;
    const bw = root.getBoundingClientRect().width || W;
    const scale = bw / W;
    const left = x(i) * scale;
    tip.style.top = `${Math.max(0, y(p.value) * scale - 10)}px`;
    if (left > bw * 0.6) { tip.style.left = ''; tip.style.right = `${bw - left + 12}px`; }
    else { tip.style.right = ''; tip.style.left = `${left + 12}px`; }
  };
  const indexAt = (ev) => {
    // A marked point under the pointer wins over the nearest-by-x guess on a dense chart.
    const hit = ev.target && ev.target.closest && ev.target.closest('circle[data-index]');
    if (hit) return Number(hit.getAttribute('data-index'));
    const r = root.getBoundingClientRect();
    const px = ((ev.clientX - r.left) / r.width) * W;
    if (px < M.l - 8 || px > M.l + pw + 8) return -1;
    return Math.max(0, Math.min(n - 1, Math.round(((px - M.l) / (pw || 1)) * (n - 1))));
  };
  root.addEventListener('mousemove', (ev) => {
    if (pinned >= 0) return;
    const i = indexAt(ev);
    if (i >= 0) show(i);
  });
  // A click pins the tip so its links can be reached; another click elsewhere unpins.
  root.addEventListener('click', (ev) => {
    const i = indexAt(ev);
    if (pinned >= 0 && (i < 0 || i === pinned)) { pinned = -1; return; }
    if (i >= 0) { pinned = -1; show(i); pinned = i; }
  });
  root.addEventListener('mouseleave', (ev) => {
    if (pinned >= 0 || tip.contains(ev.relatedTarget)) return;
    tip.hidden = true;
    cursor.setAttribute('visibility', 'hidden');
    shown = -1;
  });
  tip.addEventListener('mouseleave', (ev) => {
    if (pinned >= 0 || root.contains(ev.relatedTarget)) return;
    tip.hidden = true;
    cursor.setAttribute('visibility', 'hidden');
    shown = -1;
  });
  root.showPoint = (i) => { pinned = -1; show(i); pinned = i; };
  root.isPinned = () => pinned >= 0;
  return root;
}
