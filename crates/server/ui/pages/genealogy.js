// The genealogy page (#/genealogy?id=X): backward and forward trace as a layered graph, and the recall simulation with CSV and EPCIS export.

import { drawGraph, layout, KIND_COLOURS, MODE_COLOURS } from '../lib/graph.js';
import { el } from '../lib/dom.js';

// Siblings of one kind under one node beyond this are drawn as one group node (a batch feeds
// hundreds of serials); a click on the group opens it. Serials fold sooner: one by one they say little.
const GROUP_OVER = 12;
const GROUP_SERIALS_OVER = 4;
const TABLE_ROWS = 100;
const LINKABLE = new Set(['order', 'lot', 'serial']);

const statusBadge = (s) => ({ shipped: 'bad', in_stock: 'warn', on_hold: 'warn', wip: 'warn' })[s] || '';
const words = (s) => String(s).replace(/_/g, ' ');
const num = (v) => (typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: 2 }) : '');
function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)}`;
}
const plainId = (step) => (['lot', 'serial', 'order', 'pallet'].includes(step.kind) ? step.label : step.id);
const unitOf = (loc) => (loc ? String(loc).replace(/^urn:mixplane:unit:/, '') : '');

function entity(ctx, kind, label) {
  return LINKABLE.has(kind) ? ctx.link(kind, label, label) : el('span', {}, label);
}

/** One graph over both traces: backward nodes at negative layers, forward at positive, edges the way material went. */
function buildGraph(back, fwd, modeOfUnit) {
  const nodes = new Map();
  const edges = [];
  const add = (step, layer) => {
    if (!nodes.has(step.id)) nodes.set(step.id, { key: step.id, id: plainId(step), label: step.label, kind: step.kind, layer, step, parent: step.parent || null });
  };
  for (const [trace, sign] of [[back, -1], [fwd, 1]]) {
    if (!trace) continue;
    for (const s of trace.nodes) {
      add(s, sign * s.depth);
      if (!s.parent) continue;
      const [from, to] = sign < 0 ? [s.id, s.parent] : [s.parent, s.id];
      edges.push({ from, to, kind: s.via, quantity: s.quantity, uom: s.uom, location: s.location, time: s.time });
    }
  }
  // The link's location is the order's unit (an order consumes or produces at its unit), so an
  // order takes the mode of that unit's work center, and what it produced takes the order's.
  for (const e of edges) {
    const mode = modeOfUnit.get(unitOf(e.location));
    for (const k of [e.from, e.to]) { const n = nodes.get(k); if (n && n.kind === 'order' && mode && !n.mode) n.mode = mode; }
  }
  for (const e of edges) {
    const a = nodes.get(e.from);
    const b = nodes.get(e.to);
    if (e.kind === 'produced_from' && a?.kind === 'order' && b && !b.mode) b.mode = a.mode;
  }
  for (const n of nodes.values()) n.sub = n.kind === 'order' ? unitOf(n.step.location) : '';
  return { nodes, edges };
}

/** Folds large sibling sets into group nodes, except the groups the reader opened. */
function groupSiblings(g, opened) {
  const buckets = new Map();
  for (const n of g.nodes.values()) {
    if (!n.parent || n.layer === 0) continue;
    const k = `group:${n.parent}:${n.kind}:${n.layer}`;
    if (!buckets.has(k)) buckets.set(k, []);
    buckets.get(k).push(n);
  }
  const into = new Map();
  const groups = [];
  for (const [k, members] of buckets) {
    const first = members[0];
    if (members.length <= (first.kind === 'serial' ? GROUP_SERIALS_OVER : GROUP_OVER) || opened.has(k)) continue;
    const mode = members.every((m) => m.mode === first.mode) ? first.mode : undefined;
    groups.push({ key: k, id: '', label: `${members.length} ${first.kind}s`, kind: first.kind, layer: first.layer, group: true, mode, sub: 'click to open', members: members.length });
    for (const m of members) into.set(m.key, k);
  }
  // Descendants of a folded node fold into the same group, so a serial's customer stays reachable.
  let changed = true;
  while (changed) {
    changed = false;
    for (const n of g.nodes.values()) {
      if (into.has(n.key) || !n.parent || !into.has(n.parent)) continue;
      const k = `${into.get(n.parent)}>${n.kind}:${n.layer}`;
      if (!groups.some((x) => x.key === k)) groups.push({ key: k, id: '', label: '', kind: n.kind, layer: n.layer, group: true, members: 0, sub: 'via the group' });
      into.set(n.key, k);
      groups.find((x) => x.key === k).members++;
      changed = true;
    }
  }
  for (const gr of groups) if (!gr.label) gr.label = `${gr.members} ${gr.kind}${gr.members === 1 ? '' : 's'}`;
  const nodes = [...[...g.nodes.values()].filter((n) => !into.has(n.key)), ...groups];
  const merged = new Map();
  for (const e of g.edges) {
    const from = into.get(e.from) || e.from;
    const to = into.get(e.to) || e.to;
    const key = `${from}>${to}`;
    const m = merged.get(key);
    if (!m) merged.set(key, { from, to, kind: e.kind, quantity: e.quantity, uom: e.uom, n: 1 });
    else {
      m.n++;
      if (m.uom === e.uom && typeof e.quantity === 'number') m.quantity = (m.quantity || 0) + e.quantity;
      else m.quantity = undefined;
    }
  }
  const edges = [...merged.values()].map((e) => ({ ...e, label: typeof e.quantity === 'number' ? `${num(e.quantity)} ${e.uom || ''}`.trim() : e.n > 1 ? `${e.n} links` : '' }));
  return { nodes, edges };
}

function csvField(v) {
  const s = v == null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The recall as CSV, built here from the JSON answer: one row per affected item, then one per customer and unit of measure. */
export function recallCsv(r) {
  const rows = [['category', 'id', 'label', 'kind', 'status', 'quantity', 'on_hand', 'uom', 'depth', 'customers']];
  for (const cat of ['orders', 'lots', 'serials', 'pallets', 'other']) {
    for (const it of r[cat] || []) {
      rows.push([cat.replace(/s$/, ''), it.id, it.label, it.kind, it.status, it.quantity, it.on_hand, it.uom || '', it.depth, (it.customers || []).join('; ')]);
    }
  }
  for (const c of r.customers || []) {
    for (const [uom, q] of Object.entries(c.quantities || {})) rows.push(['customer', c.id, c.label, 'customer', 'shipped', q, '', uom, '', `${c.items} items`]);
  }
  return `${rows.map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name, style: 'display:none' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function render(view, ctx) {
  const id = (ctx.params.get('id') || '').trim();
  const state = { opened: new Set(), depth: ctx.params.get('depth') || '', recall: null, recallReq: null, allRows: false };
  let alive = true;

  const input = el('input', { type: 'search', value: id, placeholder: 'lot, batch, serial or order id', 'data-test': 'trace-id', size: 34, required: true });
  const depthSel = el('select', { 'data-test': 'trace-depth', title: 'hops from the start' },
    ['', '1', '2', '3', '4', '6'].map((d) => el('option', { value: d, selected: d === state.depth || null }, d ? `${d} hops` : 'all hops')));
  const form = el('form', {
    class: 'row', 'data-test': 'trace-form',
    onsubmit: (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      if (v) ctx.navigate(`#/genealogy?id=${encodeURIComponent(v)}${depthSel.value ? `&depth=${depthSel.value}` : ''}`);
    },
  }, input, ' ', depthSel, ' ', el('button', { class: 'primary', type: 'submit', 'data-test': 'trace-go' }, 'Trace'));
  const summary = el('div', { 'data-test': 'trace-summary' });
  const graphHost = el('div', { class: 'graph-host', 'data-test': 'graph-host', style: 'overflow:auto;max-height:70vh;border:1px solid var(--line,#dde2e8);border-radius:6px;background:var(--panel,#fff)' });
  const tableHost = el('div');
  const recallHost = el('div');
  const legend = el('p', { class: 'legend small muted', 'data-test': 'graph-legend' },
    ...Object.entries(MODE_COLOURS).map(([m, c]) => [el('span', { style: `display:inline-block;width:12px;height:12px;background:${c};border:1px solid #9aa3ad;vertical-align:middle` }), ` ${m}  `]),
    ...['order', 'lot', 'serial', 'customer'].map((k) => [el('span', { style: `display:inline-block;width:12px;height:12px;background:${KIND_COLOURS[k]};border:1px solid #9aa3ad;vertical-align:middle` }), ` ${k} (mode unknown)  `]),
    ' Material flows left to right; click a node to trace from it.');
  view.style.display = 'grid';
  view.style.gap = '16px';
  view.replaceChildren(
    el('header', {}, el('h1', {}, 'Genealogy'),
      el('p', { class: 'muted', style: 'margin:0' }, 'Where from and where used, across discrete, process and repetitive: from any serial, batch, lot or order.')),
    el('section', { class: 'panel' }, form, summary),
    el('section', { class: 'panel', 'data-test': 'graph-card' }, el('h2', {}, 'Graph'), legend, graphHost),
    recallHost, tableHost);
  if (!id) {
    summary.append(el('p', { class: 'muted' }, 'Enter an id to trace.'));
    graphHost.append(el('p', { class: 'muted', style: 'padding:12px' }, 'No item chosen.'));
    return () => { alive = false; };
  }

  const plant = await ctx.api('/v1/plant').catch(() => null);
  const wcMode = new Map((plant?.work_centers || []).map((w) => [w.id, w.mode]));
  const modeOfUnit = new Map((plant?.units || []).map((u) => [u.id, wcMode.get(u.work_center)]));

  let traces = { back: null, fwd: null, errors: [] };
  async function loadTrace(live = false) {
    const q = state.depth ? `?max_depth=${state.depth}` : '';
    const enc = encodeURIComponent(id);
    const [back, fwd] = await Promise.all([
      ctx.api(`/v1/trace/backward/${enc}${q}`).catch((e) => e),
      ctx.api(`/v1/trace/forward/${enc}${q}`).catch((e) => e),
    ]);
    if (!alive) return;
    // A live refresh that found nothing new leaves the graph (and its scroll) alone.
    const signature = [back, fwd].map((x) => (x instanceof Error ? x.message : `${x.nodes.length}:${x.nodes.at(-1)?.id}`)).join('|');
    if (live && signature === state.signature) return;
    state.signature = signature;
    traces = {
      back: back instanceof Error ? null : back,
      fwd: fwd instanceof Error ? null : fwd,
      errors: [back, fwd].filter((x) => x instanceof Error).map((e) => e.message),
    };
    renderTrace();
  }

  function renderTrace() {
    const { back, fwd, errors } = traces;
    if (!back && !fwd) {
      summary.replaceChildren(el('p', { class: 'error', 'data-test': 'trace-error' }, [...new Set(errors)].join('; ')));
      graphHost.replaceChildren();
      tableHost.replaceChildren();
      return;
    }
    const root = (back || fwd).nodes[0];
    const g = buildGraph(back, fwd, modeOfUnit);
    const folded = groupSiblings(g, state.opened);
    const laid = layout(folded.nodes, folded.edges, { maxPerLayer: 30 });
    drawGraph(graphHost, laid, {
      rootKey: root.id,
      title: (n) => (n.group ? `${n.members} ${n.kind}s: click to show them` : [n.step?.id, n.mode && `mode ${n.mode}`, n.step?.via && words(n.step.via), n.step?.quantity != null && `${num(n.step.quantity)} ${n.step.uom || ''}`, n.step?.time && when(n.step.time), n.step?.location && unitOf(n.step.location)].filter(Boolean).join('\n')),
      onSelect: (n) => {
        if (n.group) { state.opened.add(n.key.split('>')[0]); renderTrace(); return; }
        if (n.key === root.id) return;
        ctx.navigate(`#/genealogy?id=${encodeURIComponent(n.id)}${state.depth ? `&depth=${state.depth}` : ''}`);
      },
    });
    const redacted = (back?.redacted || 0) + (fwd?.redacted || 0);
    const retracted = [...(back?.retracted || []), ...(fwd?.retracted || [])];
    summary.replaceChildren(...[el('p', {},
      el('strong', {}, `${words(root.kind)} `), LINKABLE.has(root.kind) ? entity(ctx, root.kind, root.label) : el('strong', {}, root.label), ' · ',
      el('span', { 'data-test': 'backward-count' }, back ? `${back.nodes.length - 1} upstream` : 'no backward trace'), ' · ',
      el('span', { 'data-test': 'forward-count' }, fwd ? `${fwd.nodes.length - 1} downstream` : 'no forward trace'),
      redacted ? el('span', { class: 'muted' }, ` · ${redacted} outside your scope (redacted)`) : null,
      retracted.length ? el('span', { class: 'muted' }, ` · ${retracted.length} retracted events not followed`) : null,
      laid.hidden ? el('span', { class: 'muted' }, ` · ${laid.hidden} nodes behind “more”`) : null),
      errors.length ? el('p', { class: 'muted small' }, errors.join('; ')) : null,
      el('div', { class: 'row' },
        el('button', { 'data-test': 'recall-run', class: 'primary', onclick: () => runRecall({ id }) }, `Simulate recall of ${root.label}`))].filter(Boolean));
    renderNodeTable(back, fwd);
  }

  function renderNodeTable(back, fwd) {
    const rows = [];
    for (const [t, sign, dir] of [[back, -1, 'upstream'], [fwd, 1, 'downstream']]) {
      for (const s of (t?.nodes || []).slice(1)) rows.push({ s, depth: sign * s.depth, dir });
    }
    rows.sort((a, b) => a.depth - b.depth);
    const shown = state.allRows ? rows : rows.slice(0, TABLE_ROWS);
    tableHost.replaceChildren(el('section', { class: 'panel', 'data-test': 'trace-nodes' },
      el('h2', {}, `Linked items (${rows.length})`),
      el('div', { class: 'scroll' }, el('table', { class: 'table' },
        el('thead', {}, el('tr', {}, ['Depth', 'Kind', 'Item', 'Link', 'Quantity', 'When', 'Where'].map((h) => el('th', {}, h)))),
        el('tbody', {}, shown.map(({ s, depth, dir }) => el('tr', { 'data-test': 'trace-row', 'data-dir': dir },
          el('td', { class: 'num' }, depth > 0 ? `+${depth}` : depth), el('td', {}, s.kind),
          el('td', {}, entity(ctx, s.kind, s.label)), el('td', {}, words(s.via || '')),
          el('td', { class: 'num' }, s.quantity != null ? `${num(s.quantity)} ${s.uom || ''}` : ''),
          el('td', {}, when(s.time)), el('td', {}, unitOf(s.location))))))),
      rows.length > shown.length ? el('button', { 'data-test': 'trace-all-rows', onclick: () => { state.allRows = true; renderNodeTable(back, fwd); } }, `Show all ${rows.length}`) : null));
  }

  // ----- recall ------------------------------------------------------------------------------
  async function runRecall(req) {
    state.recallReq = req;
    recallHost.replaceChildren(el('section', { class: 'panel', 'data-test': 'recall' }, el('p', { class: 'muted' }, 'Running the recall simulation…')));
    try {
      state.recall = await ctx.api('/v1/trace/recall', { method: 'POST', body: req });
    } catch (e) {
      state.recall = null;
      recallHost.replaceChildren(el('section', { class: 'panel', 'data-test': 'recall' }, el('p', { class: 'error', 'data-test': 'recall-error' }, e.message)));
      return;
    }
    if (alive) renderRecall();
  }

  function itemTable(title, items, test) {
    if (!items.length) return null;
    const many = items.length > TABLE_ROWS;
    const body = el('tbody');
    const fill = (all) => body.replaceChildren(...(all ? items : items.slice(0, TABLE_ROWS)).map((it) => el('tr', { 'data-test': `${test}-row` },
      el('td', {}, entity(ctx, it.kind, it.label)), el('td', {}, el('span', { class: `badge ${statusBadge(it.status)}` }, words(it.status))),
      el('td', { class: 'num' }, num(it.quantity)), el('td', { class: 'num' }, num(it.on_hand)), el('td', {}, it.uom || ''),
      el('td', { class: 'num' }, it.depth), el('td', { class: 'small' }, (it.customers || []).join(', ')))));
    fill(false);
    const more = many ? el('button', { onclick: (ev) => { fill(true); ev.currentTarget.remove(); } }, `Show all ${items.length}`) : null;
    return el('div', { 'data-test': test }, el('h3', {}, `${title} (${items.length})`),
      el('div', { class: 'scroll', style: 'max-height:320px' }, el('table', { class: 'table' }, el('thead', {}, el('tr', {}, ['Id', 'Status', 'Quantity', 'On hand', 'UoM', 'Depth', 'Customers'].map((h) => el('th', {}, h)))), body)), more);
  }

  function renderRecall() {
    const r = state.recall;
    const t = r.totals;
    const seedName = (state.recallReq.id || state.recallReq.unit || 'recall').replace(/[^A-Za-z0-9._-]+/g, '_');
    const red = r.redacted || {};
    const redTotal = Object.values(red).reduce((a, b) => a + (Number(b) || 0), 0);
    recallHost.replaceChildren(el('section', { class: 'panel', 'data-test': 'recall' },
      el('h2', {}, 'Recall simulation'),
      el('p', {}, 'Seeds: ', r.seeds.map((s) => s.replace(/^urn:mixplane:[a-z]+:/, '')).join(', ')),
      el('div', { class: 'kpis', 'data-test': 'recall-totals' },
        ['orders', 'lots', 'serials', 'pallets', 'customers'].map((k) => el('div', { class: 'kpi', 'data-test': `recall-total-${k}` },
          el('div', { class: 'value' }, t[k]), el('div', { class: 'label' }, k)))),
      el('p', { class: 'small muted' }, 'By status: ', Object.entries(t.by_status || {}).map(([s, n]) => `${n} ${words(s)}`).join(', '),
        redTotal ? ` · ${redTotal} outside your scope left out of the lists (counted in the totals)` : ''),
      el('div', { class: 'row' },
        el('button', { 'data-test': 'recall-csv', onclick: () => download(`recall-${seedName}.csv`, 'text/csv', recallCsv(r)) }, 'Download CSV'), ' ',
        el('button', {
          'data-test': 'recall-epcis',
          onclick: async (ev) => {
            const button = ev.currentTarget;
            button.disabled = true;
            try {
              const doc = await ctx.api('/v1/trace/recall?format=epcis', { method: 'POST', body: state.recallReq, text: true });
              download(`recall-${seedName}.epcis.jsonld`, 'application/ld+json', doc);
            } catch (e) { ctx.toast(e.message, 'error'); }
            button.disabled = false;
          },
        }, 'Download EPCIS (JSON-LD)')),
      r.customers.length ? el('div', { 'data-test': 'recall-customers' }, el('h3', {}, `Customers (${r.customers.length})`),
        el('table', { class: 'table' }, el('thead', {}, el('tr', {}, ['Customer', 'Affected items', 'Quantity shipped'].map((h) => el('th', {}, h)))),
          el('tbody', {}, r.customers.map((c) => el('tr', { 'data-test': 'recall-customer-row' }, el('td', {}, c.label), el('td', { class: 'num' }, c.items),
            el('td', {}, Object.entries(c.quantities).map(([u, q]) => `${num(q)} ${u}`).join(', '))))))) : null,
      itemTable('Orders', r.orders, 'recall-orders'),
      itemTable('Lots', r.lots, 'recall-lots'),
      itemTable('Serials', r.serials, 'recall-serials'),
      itemTable('Pallets', r.pallets, 'recall-pallets'),
      itemTable('Other', r.other, 'recall-other')));
  }

  function unitRecallForm() {
    const units = (plant?.units || []).map((u) => u.id);
    const unit = el('select', { 'data-test': 'recall-unit' }, units.map((u) => el('option', { value: u }, u)));
    const from = el('input', { type: 'datetime-local', 'data-test': 'recall-from', required: true });
    const to = el('input', { type: 'datetime-local', 'data-test': 'recall-to', required: true });
    return el('details', { class: 'panel' }, el('summary', {}, 'Recall a unit’s output over a time window'),
      el('form', {
        class: 'row',
        onsubmit: (ev) => {
          ev.preventDefault();
          if (!from.value || !to.value) return;
          runRecall({ unit: unit.value, from: `${from.value}:00Z`, to: `${to.value}:00Z` });
        },
      }, unit, ' from ', from, ' to ', to, ' (UTC) ', el('button', { type: 'submit' }, 'Simulate recall')));
  }
  if (plant?.units?.length) view.insertBefore(unitRecallForm(), tableHost);

  await loadTrace();

  // New genealogy links arrive with the live plant; refetch at most every 5 s.
  let timer = null;
  ctx.live(({ topics }) => {
    if (!topics || !topics.includes('trace') || timer) return;
    timer = setTimeout(async () => {
      timer = null;
      if (!alive) return;
      await loadTrace(true).catch(() => {});
      if (state.recall && state.recallReq) {
        try { state.recall = await ctx.api('/v1/trace/recall', { method: 'POST', body: state.recallReq }); if (alive) renderRecall(); } catch { /* keep the last answer */ }
      }
    }, 5000);
  });
  return () => { alive = false; if (timer) clearTimeout(timer); };
}
