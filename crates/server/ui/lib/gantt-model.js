// lib/gantt-model.js — turns a schedule and its native problem (and the plant, when known) into the lanes lib/gantt.js draws.
//
// Setups are not in a schedule: they are recomputed here the way the engine's checker does
// (changeover from the previous operation's key, then a CIP when the unit's rule calls for
// one), so the chart shades exactly the minutes the plan reserves before each operation.

import { intervalSet } from './gantt.js';

const MINUTE = 60000;

export const parseTime = (text) => Date.parse(text);

/** Duration of an operation on a unit as the engine computes it, or null. */
export function durationOn(spec, unit) {
  const alt = spec?.alternatives?.find((a) => a.unit === unit);
  if (!alt) return null;
  if (alt.minutes !== null && alt.minutes !== undefined) return alt.minutes;
  if (alt.items_per_hour) return (alt.setup_minutes || 0) + Math.ceil((60 * (spec.quantity || 0)) / alt.items_per_hour);
  return null;
}

function keyOf(spec, table) {
  if (!spec) return null;
  if (table.keyed_by.kind === 'family') return spec.family ?? null;
  return spec.attributes?.[table.keyed_by.name] ?? null;
}

/** Setup intervals (changeover and CIP) before each op of one unit's sequence, like the checker. */
function setupsOf(seq, unit, tables, specs) {
  const table = unit?.changeover ? tables.get(unit.changeover) : null;
  const rule = unit?.cip;
  const out = [];
  let batches = 0;
  let run = 0;
  let prev = null;
  for (const a of seq) {
    const op = specs.get(a.id);
    if (!op) continue; // an operation the problem no longer has: its setup is history
    const dur = a.end - a.start;
    let changeover = null;
    if (table && prev) {
      const from = keyOf(prev, table);
      const to = keyOf(op, table);
      if (from !== null && to !== null && from !== to) {
        const entry = table.entries.find((e) => e.from === from && e.to === to);
        changeover = { from, to, minutes: entry ? entry.minutes : table.default_minutes };
      }
    }
    let cip = 0;
    let cipReason = '';
    if (rule) {
      const productChange = op.cip_before || (rule.on_product_change && prev && prev.product !== op.product);
      const afterBatches = rule.after_batches !== null && rule.after_batches !== undefined && batches >= rule.after_batches;
      const maxRun = rule.max_run_minutes !== null && rule.max_run_minutes !== undefined && run > 0 && run + dur > rule.max_run_minutes;
      if (productChange || afterBatches || maxRun) {
        cip = rule.minutes;
        cipReason = op.cip_before ? 'required' : productChange ? 'product change'
          : afterBatches ? `after ${batches} batches` : 'run limit';
        batches = 0;
        run = 0;
      }
      batches += 1;
      run += dur;
    }
    const minutes = (changeover ? changeover.minutes : 0) + cip;
    if (minutes > 0 && !op.fixed) {
      a.setup = minutes;
      out.push({ start: a.start - minutes, end: a.start, op: a.id, changeover, cip, cipReason });
    }
    prev = op;
  }
  return out;
}

/** The complement of `windows` inside [0, horizon): the unit's (or pool's) non-working time. */
function offTime(windows, horizon, shift) {
  if (!windows) return [];
  const sorted = windows.slice().sort((a, b) => a.start - b.start);
  const out = [];
  let t = 0;
  for (const w of sorted) {
    if (w.start > t) out.push({ start: t + shift, end: Math.min(w.start, horizon) + shift });
    t = Math.max(t, w.end);
  }
  if (t < horizon) out.push({ start: t + shift, end: horizon + shift });
  return out.filter((w) => w.end > w.start);
}

/** A step function {t, v} from sorted change points. */
function steps(points) {
  points.sort((a, b) => a[0] - b[0]);
  const t = [];
  const v = [];
  for (const [time, value] of points) {
    if (t.length && t[t.length - 1] === time) v[v.length - 1] = value;
    else if (v.length && v[v.length - 1] === value) continue;
    else {
      t.push(time);
      v.push(value);
    }
  }
  return { t: Float64Array.from(t), v: Float64Array.from(v) };
}

/** The capacity of a pool over time: calendar windows and dips over the horizon, nominal outside. */
function poolCapacity(pool, horizon, shift, from) {
  const changes = new Map();
  const set = (time, value) => changes.set(time, value);
  set(Math.min(from, 0 + shift), pool.capacity);
  const at = (m) => {
    const inWindow = !pool.availability || pool.availability.some((w) => w.start <= m && m < w.end);
    if (!inWindow && m < horizon) return 0;
    let cap = pool.capacity;
    for (const d of pool.dips || []) if (d.start <= m && m < d.end) cap = Math.min(cap, d.capacity);
    return cap;
  };
  const edges = new Set([0, horizon]);
  for (const w of pool.availability || []) edges.add(w.start).add(w.end);
  for (const d of pool.dips || []) edges.add(d.start).add(d.end);
  for (const e of [...edges].sort((a, b) => a - b)) set(e + shift, at(e));
  return steps([...changes.entries()]);
}

function poolLoad(uses) {
  const events = [];
  for (const [start, end, q] of uses) events.push([start, q], [end, -q]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const points = [];
  let level = 0;
  for (let i = 0; i < events.length; i++) {
    level += events[i][1];
    if (i + 1 === events.length || events[i + 1][0] !== events[i][0]) points.push([events[i][0], level]);
  }
  return steps(points);
}

/** Where load exceeds capacity: merge both step functions. */
function overload(load, cap) {
  const out = [];
  const times = [...new Set([...load.t, ...cap.t])].sort((a, b) => a - b);
  let i = -1;
  let j = -1;
  let open = null;
  for (const t of times) {
    while (i + 1 < load.t.length && load.t[i + 1] <= t) i++;
    while (j + 1 < cap.t.length && cap.t[j + 1] <= t) j++;
    const over = (i >= 0 ? load.v[i] : 0) > (j >= 0 ? cap.v[j] : Infinity);
    if (over && open === null) open = t;
    if (!over && open !== null) {
      out.push({ start: open, end: t });
      open = null;
    }
  }
  return out;
}

function areaName(plant, id) {
  return plant?.areas?.find((x) => x.id === id)?.name ?? '';
}

/**
 * Builds the chart model.
 * @param {object} input
 *   origin        epoch ms of minute 0 of `assignments`
 *   assignments   [{op, unit, start, end}] in minutes from origin
 *   problem       the native problem (optional; its minutes are from its own horizon_start)
 *   plant         GET /v1/plant (optional: areas, work centers, unit names, order products)
 *   workCenters   GET /v1/work-centers (optional: units' current state)
 *   late          Map order → minutes late (optional; computed from due dates otherwise)
 *   now           minutes from origin of the plant's clock (optional)
 */
export function buildModel({ origin, assignments, problem, plant, workCenters, late, now = null }) {
  const shift = problem ? Math.round((parseTime(problem.horizon_start) - origin) / MINUTE) : 0;
  const specs = new Map((problem?.operations || []).map((op) => [op.id, op]));
  const tables = new Map((problem?.changeovers || []).map((t) => [t.id, t]));
  const problemUnits = new Map((problem?.units || []).map((u) => [u.id, u]));
  const horizon = problem?.horizon_minutes ?? 0;

  // Families of operations the problem no longer has come from the plant's order book.
  const plantOrders = new Map((plant?.orders || []).map((o) => [o.id, o]));
  const materialFamily = new Map((plant?.materials || []).map((m) => [m.id, m.family]));
  const orderOf = (opId) => {
    const i = opId.lastIndexOf('/');
    return i > 0 ? opId.slice(0, i) : opId;
  };

  const opsById = new Map();
  const byUnit = new Map();
  const orders = new Map();
  const families = new Set();
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of assignments) {
    const spec = specs.get(a.op);
    const order = spec?.order ?? orderOf(a.op);
    const product = spec?.product ?? plantOrders.get(order)?.product ?? null;
    const family = spec?.family ?? (product ? materialFamily.get(product) : null) ?? null;
    if (family) families.add(family);
    const op = { id: a.op, order, unit: a.unit, start: a.start, end: a.end, product, family, late: 0, setup: 0, row: null };
    opsById.set(op.id, op);
    if (!byUnit.has(a.unit)) byUnit.set(a.unit, []);
    byUnit.get(a.unit).push(op);
    if (!orders.has(order)) orders.set(order, { id: order, ops: [], late: 0 });
    orders.get(order).ops.push(op);
    lo = Math.min(lo, a.start);
    hi = Math.max(hi, a.end);
  }

  // Lateness: the explanation's when given, else each order's last end against its due date.
  if (late) {
    for (const [order, minutes] of late) if (orders.has(order)) orders.get(order).late = minutes;
  } else if (problem) {
    for (const o of problem.orders) {
      const entry = orders.get(o.id);
      if (!entry || o.due === null || o.due === undefined) continue;
      const completion = Math.max(...entry.ops.map((op) => op.end));
      if (completion > o.due + shift) entry.late = completion - (o.due + shift);
    }
  }
  for (const entry of orders.values()) if (entry.late) for (const op of entry.ops) op.late = entry.late;

  // Units grouped by area and mode (the plant's work centers), else by the problem's mode.
  const wcById = new Map((plant?.work_centers || []).map((w) => [w.id, w]));
  const plantUnits = new Map((plant?.units || []).map((u) => [u.id, u]));
  const state = new Map();
  for (const wc of workCenters || []) for (const u of wc.units || []) state.set(u.id, u.state);
  const unitIds = new Set([...problemUnits.keys(), ...byUnit.keys()]);
  const groups = new Map();
  const areaOrder = (plant?.areas || []).map((a) => a.id);
  for (const id of unitIds) {
    const pu = plantUnits.get(id);
    const wc = pu ? wcById.get(pu.work_center) : null;
    const mode = wc?.mode ?? problemUnits.get(id)?.mode ?? 'unit';
    const area = wc?.area ?? null;
    const key = `${area ?? ''}\u0000${mode}`;
    if (!groups.has(key)) {
      groups.set(key, {
        area, mode,
        label: area ? `${area} · ${mode} — ${areaName(plant, area)}` : `${mode} units`,
        units: [],
      });
    }
    groups.get(key).units.push({ id, name: pu?.name ?? null, wc: wc?.name ?? null });
  }
  const sortedGroups = [...groups.values()].sort((a, b) => {
    const ia = a.area === null ? 1e9 : areaOrder.indexOf(a.area);
    const ib = b.area === null ? 1e9 : areaOrder.indexOf(b.area);
    return ia - ib || a.mode.localeCompare(b.mode);
  });

  const rows = [];
  const allSetups = [];
  for (const group of sortedGroups) {
    rows.push({ type: 'group', label: group.label, area: group.area, mode: group.mode });
    group.units.sort((a, b) => a.id.localeCompare(b.id));
    for (const u of group.units) {
      const ops = (byUnit.get(u.id) || []).sort((a, b) => a.start - b.start || a.end - b.end || (a.id < b.id ? -1 : 1));
      const spec = problemUnits.get(u.id);
      // The checker's sequence is in the problem's minutes; shifting keeps the order.
      const setups = problem ? setupsOf(ops, spec, tables, specs) : [];
      for (const s of setups) lo = Math.min(lo, s.start);
      allSetups.push(...setups);
      const row = {
        type: 'unit', id: u.id,
        label: u.name ? `${u.id} · ${u.name.replace(u.id, '').replace(/\s+,/g, ',').replace(/\s{2,}/g, ' ').trim()}` : u.id,
        state: state.get(u.id) || null,
        ops: intervalSet(ops),
        setups: intervalSet(setups),
        off: intervalSet(spec ? offTime(spec.availability, horizon, shift) : []),
        down: intervalSet(spec ? spec.downtime.map((d) => ({ start: d.start + shift, end: d.end + shift })) : []),
      };
      for (const op of ops) op.row = row;
      rows.push(row);
    }
  }
  if (!Number.isFinite(lo)) {
    lo = now ?? 0;
    hi = lo + 1440;
  }

  // Pools: the load of the plan's operations over the capacity of the plant's calendar.
  const pools = problem?.pools || [];
  if (pools.length) {
    rows.push({ type: 'group', label: 'Pooled resources — load under capacity' });
    const uses = new Map(pools.map((p) => [p.id, []]));
    for (const op of opsById.values()) {
      const spec = specs.get(op.id);
      for (const u of spec?.pools || []) uses.get(u.pool)?.push([op.start, op.end, u.quantity]);
    }
    const ordered = pools.slice().sort((a, b) => a.id.localeCompare(b.id));
    for (const p of ordered) {
      const load = poolLoad(uses.get(p.id));
      const capacity = poolCapacity(p, horizon, shift, lo);
      const sub = p.id.includes('/');
      rows.push({
        type: 'pool', id: p.id,
        label: sub ? `  ↳ ${p.id.slice(p.id.indexOf('/') + 1)}` : p.id,
        sub: `${p.description || ''} · capacity ${p.capacity}`,
        maxCapacity: Math.max(p.capacity, ...load.v),
        load, capacity,
        over: intervalSet(overload(load, capacity)),
      });
    }
  }

  const originDate = new Date(origin);
  const originOffset = originDate.getUTCHours() * 60 + originDate.getUTCMinutes() + originDate.getUTCSeconds() / 60;
  return {
    origin, originOffset, shift, now,
    extent: [lo, hi],
    rows, orders, opsById, families,
    opCount: opsById.size,
    setupCount: allSetups.length,
    lateOrders: [...orders.values()].filter((o) => o.late > 0).sort((a, b) => b.late - a.late),
  };
}
