// One order: what it is, where it stands, its operations in the plan in force, why it is
// late if it is, the holds on it, and links to its Gantt lane and its genealogy.

import { el, fill, badge, num, when, table, minutes } from '../lib/dom.js';

export async function render(view, ctx) {
  const id = ctx.params.get('id');
  const refresh = async () => {
    const key = encodeURIComponent(id);
    const [order, plan, why, holds] = await Promise.all([
      ctx.api(`/v1/orders/${key}`),
      ctx.api('/v1/schedule').catch(() => null),
      ctx.can('read_schedule') ? ctx.api(`/v1/schedule/explain?order=${key}`).catch(() => null) : null,
      ctx.can('read_quality') ? ctx.api(`/v1/quality/holds?item_kind=order&item_id=${key}&active=true`).catch(() => null) : null,
    ]);
    const o = order.order;
    const ops = (plan?.assignments || []).filter((a) => a.op.startsWith(`${id}/`));
    const late = why?.order?.late || null;
    fill(view,
      el('div', { class: 'row' },
        el('h1', { 'data-test': 'order-id' }, `Order ${o.id}`), badge(order.mode, order.mode), badge(order.status.replace('_', ' '), ''),
        late ? badge(`${minutes(late.minutes_late)} late in the plan`, 'late') : null),
      el('div', { class: 'grid' },
        el('div', { class: 'panel' },
          el('h2', {}, 'What'),
          el('table', {}, el('tbody', {},
            row('Product', o.product), row('Routing', o.routing), row('Quantity', num(o.quantity)),
            row('Priority', o.priority), row('Customer', o.customer || '—'),
            row('Released', when(o.release)), row('Due', when(o.due)),
            row('Started', when(order.started)), row('Completed', when(order.completed)),
            row('Steps', `${order.steps_completed} of ${order.steps_total}`),
            row('Now on', order.current_unit ? ctx.link('unit', order.current_unit) : '—'),
            row('Good / scrap', `${num(order.good_quantity)} / ${num(order.scrap_quantity)}`)))),
        el('div', { class: 'panel' },
          el('h2', {}, 'In the plan in force'),
          ops.length ? table([
            { head: 'Operation', cell: (a) => a.op },
            { head: 'Unit', cell: (a) => ctx.link('unit', a.unit) },
            { head: 'Start', cell: (a) => when(a.start_at), class: 'nowrap' },
            { head: 'End', cell: (a) => when(a.end_at), class: 'nowrap' },
            { head: 'Length', cell: (a) => minutes(a.end - a.start), class: 'num' },
          ], ops, { 'data-test': 'order-ops' }) : el('p', { class: 'empty' }, 'No operation of this order is planned.'),
          el('div', { class: 'row', style: 'margin-top:10px' },
            el('a', { class: 'button', href: `#/gantt?order=${encodeURIComponent(id)}`, 'data-test': 'order-gantt' }, 'Show on the Gantt'),
            ctx.can('read_trace') ? el('a', { class: 'button', href: `#/genealogy?id=${key}` }, 'Genealogy') : null)),
        late ? lateness(late, ctx) : null,
        holds ? holdsOn(holds, ctx) : null));
  };
  await refresh();
  ctx.live((change) => { if (change.topics.includes('plan') || change.topics.includes('events')) refresh().catch(() => {}); });
}

/** The chain of waits that makes the order late, latest first (`GET /v1/schedule/explain`). */
function lateness(late, ctx) {
  return el('div', { class: 'panel', 'data-test': 'order-lateness' },
    el('h2', {}, `Why it is late: mostly ${late.dominant_cause}`),
    el('p', { class: 'muted' }, late.minutes_by_cause.map((c) => `${c.cause} ${minutes(c.minutes)}`).join(' · ')),
    el('ol', {}, late.chain.map((step) => el('li', {},
      badge(step.cause, ''), ' ', step.op || step.kind, step.unit ? [' on ', ctx.link('unit', step.unit)] : null,
      el('span', { class: 'muted' }, ` · ${minutes(step.minutes)}`)))));
}

function holdsOn(holds, ctx) {
  return el('div', { class: 'panel', 'data-test': 'order-holds' },
    el('h2', {}, `Holds on this order (${holds.total})`),
    holds.items.length ? table([
      { head: 'Hold', cell: (h) => ctx.link('hold', h.id) },
      { head: 'Why', cell: (h) => h.reason },
      { head: 'Since', cell: (h) => when(h.placed_at) },
    ], holds.items) : el('p', { class: 'empty' }, 'None in force.'));
}

function row(label, value) {
  return el('tr', {}, el('th', {}, label), el('td', {}, value));
}
