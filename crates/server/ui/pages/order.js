// One order: what it is, where it stands, its operations in the plan in force, and links to
// its Gantt, its genealogy and the proposals about it.

import { el, fill, badge, num, when, table, minutes } from '../lib/dom.js';

export async function render(view, ctx) {
  const id = ctx.params.get('id');
  const refresh = async () => {
    const [order, plan] = await Promise.all([
      ctx.api(`/v1/orders/${encodeURIComponent(id)}`),
      ctx.api('/v1/schedule').catch(() => null),
    ]);
    const o = order.order;
    const ops = (plan?.assignments || []).filter((a) => a.op.startsWith(`${id}/`));
    const end = ops.length ? ops.reduce((m, a) => (a.end_at > m ? a.end_at : m), ops[0].end_at) : null;
    const late = end && end > o.due;
    fill(view,
      el('div', { class: 'row' },
        el('h1', { 'data-test': 'order-id' }, `Order ${o.id}`), badge(order.mode, order.mode), badge(order.status.replace('_', ' '), ''),
        late ? badge('late in the plan', 'late') : null),
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
            { head: 'Start', cell: (a) => when(a.start_at) },
            { head: 'End', cell: (a) => when(a.end_at) },
            { head: 'Length', cell: (a) => minutes(a.end - a.start), class: 'num' },
          ], ops, { 'data-test': 'order-ops' }) : el('p', { class: 'empty' }, 'No operation of this order is planned.'),
          el('div', { class: 'row', style: 'margin-top:10px' },
            el('a', { class: 'button', href: `#/gantt?order=${encodeURIComponent(id)}`, 'data-test': 'order-gantt' }, 'Show on the Gantt'),
            ctx.can('read_trace') ? el('a', { class: 'button', href: `#/genealogy?id=${encodeURIComponent(id)}` }, 'Genealogy') : null,
            ctx.can('read_proposals') ? el('a', { class: 'button', href: `#/approvals?order=${encodeURIComponent(id)}` }, 'Proposals') : null))));
  };
  await refresh();
  ctx.live((change) => { if (change.topics.includes('plan') || change.topics.includes('events')) refresh().catch(() => {}); });
}

function row(label, value) {
  return el('tr', {}, el('th', {}, label), el('td', {}, value));
}
