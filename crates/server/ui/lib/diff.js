// Renders a governance diff (a proposal's list of `Change`s) as a summary and a table, with entity links.

import { el } from './dom.js';

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

// Rows beyond this are behind a "show all" button: a re-plan can move hundreds of operations,
// and the reviewer first needs the summary, not a wall of rows.
const FIRST_ROWS = 60;

/** A short, readable form of a plant instant (UTC, as the API sends it). */
export function shortTime(text) {
  if (typeof text !== 'string' || !INSTANT.test(text)) return String(text);
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return text;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** Signed minutes as `+2 h 30 min` / `−45 min`. */
export function minutes(m) {
  if (m == null) return '';
  const sign = m < 0 ? '−' : '+';
  let rest = Math.abs(Math.round(m));
  const days = Math.floor(rest / 1440);
  rest -= days * 1440;
  const hours = Math.floor(rest / 60);
  const mins = rest - hours * 60;
  const parts = [];
  if (days) parts.push(`${days} d`);
  if (hours) parts.push(`${hours} h`);
  if (mins || !parts.length) parts.push(`${mins} min`);
  return sign + parts.join(' ');
}

// Which ctx.link kind an entity of the diff is viewed under, if it has a view.
const LINKED = { order: 'order', lot: 'lot', serial: 'serial', unit: 'unit', nc: 'nc', hold: 'hold' };

/** An entity reference: a link when the shell has a view for it, else its id as text. */
export function entityRef(ctx, entity, id) {
  // An operation (`MO-1/2`) has no view of its own: it links to its order, labelled as itself.
  const op = entity === 'operation' && /^(.+)\/\d+$/.exec(id);
  if (op && ctx && typeof ctx.link === 'function') {
    const a = ctx.link('order', op[1], id);
    if (a.dataset) a.dataset.entity = 'operation';
    return a;
  }
  const kind = LINKED[entity];
  if (kind && ctx && typeof ctx.link === 'function') {
    const a = ctx.link(kind, id, id);
    if (a.dataset) a.dataset.entity = entity;
    return a;
  }
  return el('span', { class: 'mono' }, id);
}

/** One diff value (`before` or `after`) as DOM: instants shortened, unit ids linked, holds and windows spelled out. */
export function valueNode(ctx, field, value) {
  if (value === null || value === undefined) return el('span', { class: 'muted' }, '—');
  if (field === 'unit' && typeof value === 'string') return entityRef(ctx, 'unit', value);
  if (typeof value === 'string') return el('span', { title: value }, shortTime(value));
  if (typeof value === 'number' || typeof value === 'boolean') return el('span', {}, String(value));
  if (field === 'hold' && typeof value === 'object' && !Array.isArray(value)) {
    const bits = [value.severity, value.reason].filter(Boolean).join(': ');
    return el('span', { title: JSON.stringify(value) }, `held — ${bits || 'hold'}`);
  }
  if (Array.isArray(value) && value.every(w => w && typeof w === 'object' && 'start' in w && 'end' in w)) {
    if (!value.length) return el('span', { class: 'muted' }, 'none');
    return el('span', {}, value.map(w => `${shortTime(w.start)}–${shortTime(w.end).slice(11)}`).join(', '));
  }
  const text = JSON.stringify(value);
  return el('code', { title: text }, text.length > 80 ? text.slice(0, 77) + '…' : text);
}

/** Counts per `entity field`, e.g. `{ "operation start": 12, "order due": 2 }`, in first-seen order. */
export function summarize(diff) {
  const counts = new Map();
  for (const c of diff) {
    const key = `${c.entity} ${c.field}`;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return counts;
}

/** The ids of every order, lot, serial and unit a diff names (objects and unit values), for the "touches" line. */
export function namedEntities(diff) {
  const found = { order: new Set(), lot: new Set(), serial: new Set(), unit: new Set() };
  for (const c of diff) {
    if (found[c.entity]) found[c.entity].add(c.id);
    const op = c.entity === 'operation' && /^(.+)\/\d+$/.exec(c.id);
    if (op) found.order.add(op[1]);
    if (c.field === 'unit') {
      for (const v of [c.before, c.after]) if (typeof v === 'string') found.unit.add(v);
    }
  }
  return found;
}

/** The diff as a summary line plus a table (`data-test="proposal-diff"`), first rows shown. */
export function diffTable(ctx, diff) {
  const wrap = el('div', { class: 'diff', 'data-test': 'proposal-diff' });
  const objects = new Set(diff.map(c => `${c.entity}\u0000${c.id}`)).size;
  const parts = [...summarize(diff)].map(([k, n]) => `${n} × ${k}`);
  wrap.append(el('p', { 'data-test': 'diff-summary' },
    `${diff.length} change${diff.length === 1 ? '' : 's'} to ${objects} object${objects === 1 ? '' : 's'}: ${parts.join(', ')}`));
  const body = el('tbody');
  const table = el('table', { class: 'diff-table' },
    el('thead', {}, el('tr', {},
      el('th', {}, 'Object'), el('th', {}, 'Field'), el('th', {}, 'Before'),
      el('th', {}, 'After'), el('th', { class: 'num' }, 'Shift'))),
    body);
  const row = c => el('tr', { 'data-test': 'diff-row', class: c.high_priority ? 'high-priority' : null },
    el('td', {}, el('span', { class: 'muted' }, c.entity + ' '), entityRef(ctx, c.entity, c.id),
      c.high_priority ? [' ', el('span', { class: 'badge warn', title: 'belongs to a high-priority order' }, 'high priority')] : null),
    el('td', {}, c.field),
    el('td', {}, valueNode(ctx, c.field, c.before)),
    el('td', {}, valueNode(ctx, c.field, c.after)),
    el('td', { class: 'num' }, c.shift_minutes != null ? minutes(c.shift_minutes) : ''));
  diff.slice(0, FIRST_ROWS).forEach(c => body.append(row(c)));
  wrap.append(table);
  if (diff.length > FIRST_ROWS) {
    const more = el('button', {
      type: 'button', 'data-test': 'diff-show-all',
      onclick: () => { diff.slice(FIRST_ROWS).forEach(c => body.append(row(c))); more.remove(); },
    }, `Show all ${diff.length} changes`);
    wrap.append(more);
  }
  return wrap;
}
