// The overview: the plant by mode and area, the plan's KPIs, the bottleneck, and what is
// open (alerts, holds, nonconformances) or waiting for the signed-in principal.

import { el, fill, badge, num, pct, minutes, when, table } from '../lib/dom.js';

const MODES = ['discrete', 'process', 'repetitive'];

export async function render(view, ctx) {
  const kpiRow = el('div', { class: 'kpis', 'data-test': 'overview-kpis' });
  const plant = el('div', { class: 'panel', 'data-test': 'overview-plant' });
  const waiting = el('div', { class: 'panel', 'data-test': 'overview-waiting' });
  const quality = el('div', { class: 'panel', 'data-test': 'overview-quality' });
  fill(view,
    el('div', { class: 'row' }, el('h1', {}, 'Overview'), el('span', { class: 'muted small', 'data-test': 'overview-as-of' })),
    kpiRow, el('div', { style: 'height:16px' }),
    el('div', { class: 'grid' }, plant, el('div', { class: 'grid', style: 'grid-template-columns:1fr' }, waiting, quality)));

  let busy = false;
  let again = false;
  const refresh = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const data = await load(ctx);
      fill(view.querySelector('[data-test=overview-as-of]'), data.plan ? `plan v${data.plan.version}, plant time ${when(data.plan.plant_time)}` : 'no plan in force');
      fill(kpiRow, kpis(data));
      fill(plant, plantByMode(data, ctx));
      fill(waiting, proposalsWaiting(data, ctx));
      fill(quality, openQuality(data, ctx));
    } catch (error) {
      ctx.toast(`Overview: ${error.message}`, 'error');
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  };
  await refresh();
  ctx.live((change) => {
    if (['plan', 'proposals', 'quality', 'events'].some((t) => change.topics.includes(t))) refresh();
  });
}

async function load(ctx) {
  const optional = (permission, path) => (ctx.can(permission) ? ctx.api(path).catch(() => null) : Promise.resolve(null));
  const [workCenters, plan, inProgress, completed, alerts, holds, ncs, proposals] = await Promise.all([
    ctx.api('/v1/work-centers'),
    ctx.can('read_plant') ? ctx.api('/v1/schedule').catch((e) => (e.status === 404 ? null : Promise.reject(e))) : null,
    ctx.api('/v1/orders?status=in_progress&limit=1'),
    ctx.api('/v1/orders?status=completed&sort=-due&limit=1000'),
    optional('read_quality', '/v1/quality/alerts?limit=5'),
    optional('read_quality', '/v1/quality/holds?active=true&limit=5'),
    optional('read_quality', '/v1/quality/nonconformances?open=true&limit=5'),
    optional('read_proposals', '/v1/proposals?status=proposed&limit=100'),
  ]);
  return { workCenters, plan, inProgress, completed, alerts, holds, ncs, proposals };
}

function kpis({ plan, inProgress, completed, workCenters }) {
  const done = completed.items;
  const onTime = done.filter((o) => o.completed && o.completed <= o.order.due).length;
  const units = workCenters.flatMap((wc) => wc.units);
  const utilisation = units.length ? units.reduce((s, u) => s + (u.utilisation || 0), 0) / units.length : null;
  const bottleneck = bottleneckOf(plan, units);
  const k = plan?.kpis || {};
  const card = (label, value, test, cls = '') => el('div', { class: `kpi ${cls}`, 'data-test': `kpi-${test}` },
    el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
  return [
    card(`on time (last ${done.length} completed)`, done.length ? pct(onTime / done.length) : '—', 'on-time', done.length && onTime / done.length < 0.9 ? 'bad' : 'ok'),
    card('late in the plan', k.late_orders ?? '—', 'late', k.late_orders ? 'bad' : 'ok'),
    card('utilisation so far (mean of units)', pct(utilisation), 'utilisation'),
    card('planned utilisation', k.utilization_percent === undefined ? '—' : pct(k.utilization_percent, false), 'planned-utilisation'),
    card('changeovers planned', k.changeovers === undefined ? '—' : `${k.changeovers} · ${minutes(k.changeover_minutes)}`, 'changeovers'),
    card('CIP planned', k.cips ?? '—', 'cips'),
    card('work in progress (orders)', num(inProgress.total, 0), 'wip'),
    card('bottleneck', bottleneck ? el('a', { href: `#/gantt?unit=${encodeURIComponent(bottleneck.unit)}` }, bottleneck.unit) : '—', 'bottleneck'),
  ];
}

/** The unit the plan books most over its horizon: where the plan's length is decided. */
function bottleneckOf(plan, units) {
  if (!plan?.assignments?.length) return null;
  const booked = new Map();
  for (const a of plan.assignments) {
    const from = Math.max(0, a.start);
    if (a.end > from) booked.set(a.unit, (booked.get(a.unit) || 0) + (a.end - from));
  }
  let best = null;
  for (const [unit, load] of booked) if (!best || load > best.load) best = { unit, load };
  return best && units.some((u) => u.id === best.unit) ? best : best;
}

function plantByMode({ workCenters }, ctx) {
  const areas = [...new Set(workCenters.map((wc) => wc.area))].sort();
  const stateBadge = (u) => badge(u.state, { running: 'ok', down: 'bad', cleaning: 'warn' }[u.state] || '');
  return [
    el('h2', {}, 'The plant by mode and area'),
    el('table', { 'data-test': 'plant-table' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Area'), MODES.map((m) => el('th', {}, el('span', { class: `mode-${m}` }, m))))),
      el('tbody', {}, areas.map((area) => el('tr', {},
        el('td', {}, el('strong', {}, area)),
        MODES.map((mode) => el('td', {}, workCenters.filter((wc) => wc.area === area && wc.mode === mode).map((wc) =>
          el('div', { class: 'small' },
            el('div', { class: 'muted' }, wc.name),
            wc.units.map((u) => el('div', { class: 'row', style: 'gap:6px' },
              ctx.link('unit', u.id), stateBadge(u),
              el('span', { class: 'muted' }, pct(u.utilisation))))))))))))];
}

function proposalsWaiting({ proposals }, ctx) {
  if (!proposals) return [el('h2', {}, 'Proposals'), el('p', { class: 'empty' }, 'Your role does not read proposals.')];
  const mine = proposals.items.filter((p) => p.proposed_by !== ctx.session.principal);
  const title = ctx.can('decide_proposals') ? 'Proposals waiting for a decision' : 'Proposals waiting (you may not decide)';
  return [
    el('h2', {}, `${title} (${proposals.total})`),
    mine.length ? table([
      { head: 'Proposal', cell: (p) => ctx.link('proposal', p.id) },
      { head: 'Kind', cell: (p) => badge(p.kind.replace('_', ' '), '') },
      { head: 'Area', cell: (p) => p.area || 'site' },
      { head: 'What', cell: (p) => p.title },
      { head: 'Expires', cell: (p) => when(p.expires_at) },
    ], mine.slice(0, 8), { 'data-test': 'waiting-table' }) : el('p', { class: 'empty' }, 'Nothing waits.'),
  ];
}

function openQuality({ alerts, holds, ncs }, ctx) {
  if (!alerts) return [el('h2', {}, 'Quality'), el('p', { class: 'empty' }, 'Your role does not read quality data.')];
  return [
    el('h2', {}, 'Quality'),
    el('div', { class: 'kpis' },
      el('a', { class: 'kpi', href: '#/quality', 'data-test': 'kpi-alerts' }, el('div', { class: 'value' }, num(alerts.total, 0)), el('div', { class: 'label' }, 'alerts')),
      el('a', { class: 'kpi', href: '#/quality', 'data-test': 'kpi-holds' }, el('div', { class: 'value' }, num(holds.total, 0)), el('div', { class: 'label' }, 'active holds')),
      el('a', { class: 'kpi', href: '#/quality', 'data-test': 'kpi-ncs' }, el('div', { class: 'value' }, num(ncs.total, 0)), el('div', { class: 'label' }, 'open nonconformances'))),
    el('h3', {}, 'Latest alerts'),
    table([
      { head: 'Characteristic', cell: (a) => ctx.link('characteristic', a.characteristic) },
      { head: 'Severity', cell: (a) => badge(a.severity) },
      { head: 'Rules', cell: (a) => `${a.rule_set} ${a.rules.join(', ')}` },
      { head: 'Items', cell: (a) => a.items.map((i) => [ctx.link(i.kind, i.id), ' ']) },
      { head: 'At', cell: (a) => when(a.at) },
    ], alerts.items, { 'data-test': 'alerts-table' }),
    el('h3', {}, 'Open nonconformances'),
    ncs.items.length ? table([
      { head: 'NC', cell: (n) => ctx.link('nc', n.id) },
      { head: 'State', cell: (n) => badge(n.state || n.nonconformance?.state || '') },
      { head: 'Characteristic', cell: (n) => ctx.link('characteristic', n.characteristic) },
    ], ncs.items) : el('p', { class: 'empty' }, 'None open.'),
  ];
}
