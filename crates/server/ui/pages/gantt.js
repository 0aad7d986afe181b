// pages/gantt.js — the Gantt view (#/gantt): the plan in force on the plant's units and pools, late orders and why they are late, and a native problem file solved on the spot.

import { el } from '../lib/dom.js';
import { GanttChart, formatInstant, formatMinutes } from '../lib/gantt.js';
import { buildModel, parseTime } from '../lib/gantt-model.js';

export const CAUSE_COLOURS = {
  processing: '#4e79a7', precedence: '#9c755f', unit: '#f28e2b', setup: '#edc948', calendar: '#8c8c8c',
  downtime: '#d62728', pool: '#59a14f', material: '#b07aa1', max_lag: '#76b7b2', release: '#bab0ac',
  frozen: '#555', idle: '#c7c7c7',
};

/** The element builder every page uses (`lib/dom.js`), under the name these pages call it. */
export const h = el;


/** The legend of the chart's shading (and of the families in the family view). */
export function legend(chart, colorBy) {
  const sw = (style, text) => h('span', {}, h('i', { style }), text);
  const items = [
    sw('background:repeating-linear-gradient(135deg,#ffecbe 0 3px,#be7800 3px 4px)', 'changeover'),
    sw('background:repeating-linear-gradient(135deg,#cdeefc 0 3px,#0078aa 3px 4px)', 'CIP'),
    sw('background:repeating-linear-gradient(135deg,#e2e6ec 0 3px,#8a929d 3px 4px)', 'outside shifts'),
    sw('background:repeating-linear-gradient(135deg,#ffdcdc 0 3px,#c82828 3px 4px)', 'downtime'),
    sw('background:#fff;border:2px solid #d62728', 'late order'),
    sw('background:#2e867a', 'pool load'),
    sw('background:#e9eef3', 'pool capacity'),
  ];
  if (colorBy === 'family' && chart.model) {
    for (const f of [...chart.model.families].sort()) items.push(sw(`background:${chart.familyColour(f)}`, f));
  }
  return h('div', { class: 'gp-legend', dataset: { test: 'gantt-legend' } }, items);
}

/** Describes one link of a late order's chain for the side panel. */
function linkText(link, ctx, self) {
  const unit = (id) => ctx.link('unit', id);
  const order = (id) => (id === self ? id : ctx.link('order', id));
  switch (link.kind) {
    case 'operation': {
      const via = link.via?.kind && link.via.kind !== 'last'
        ? ` (held ${link.via.succ}${link.via.pool ? ` via pool ${link.via.pool}` : ''}${link.via.material ? ` via ${link.via.material}` : ''})`
        : '';
      return [`${link.op} of `, order(link.order), ' on ', unit(link.unit), via];
    }
    case 'setup': {
      const parts = [];
      if (link.changeover) parts.push(`changeover ${link.changeover.from} → ${link.changeover.to} (${formatMinutes(link.changeover.minutes)})`);
      if (link.cip) parts.push(`CIP ${formatMinutes(link.cip.minutes)} (${link.cip.reasons.map((r) => r.kind.replace(/_/g, ' ')).join(', ')})`);
      return [`${parts.join(' + ')} on `, unit(link.unit), ` before ${link.op}, after ${link.after}`];
    }
    case 'calendar':
      return [unit(link.unit), ` outside its shifts for ${link.op}`];
    case 'downtime':
      return [unit(link.unit), ` down for ${link.op}`];
    case 'pool':
      return [`pool ${link.pool} full for ${link.op}`, link.holders?.length ? ` (held by ${link.holders.slice(0, 4).join(', ')}${link.holders.length > 4 ? '…' : ''})` : ''];
    case 'material':
      return [`${link.op} waits for ${link.quantity} of ${link.material}`, link.receipt ? ' (receipt)' : ''];
    case 'lag':
      return [`minimum lag ${formatMinutes(link.min_lag)} after ${link.pred} before ${link.op}`];
    case 'max_lag':
      return [`${link.op} held by the maximum lag of ${link.succ} (${formatMinutes(link.max_lag)})`];
    case 'release':
      return [`${link.op} released at this time`];
    case 'frozen':
      return [`${link.op} frozen or running on `, unit(link.unit)];
    case 'idle':
      return [`${link.op} left waiting (nothing held it)`];
    default:
      return [link.kind];
  }
}

/** The side panel of a late order: its chain of waits, with links to the order and its lots. */
export function explainPanel(late, { ctx, origin, shift, lots }) {
  const at = (m) => formatInstant(origin + (m + shift) * 60000);
  const total = late.minutes_by_cause.reduce((s, c) => s + Math.max(c.minutes, 0), 0) || 1;
  return h('div', { dataset: { test: 'explain-chain', order: late.order } },
    h('h3', {}, 'Why ', ctx.link('order', late.order), ' is late'),
    h('p', { dataset: { test: 'explain-summary' } },
      h('b', {}, formatMinutes(late.minutes_late)), ' late: due ', at(late.due), ', completes ', at(late.completion),
      '. Mostly ', h('b', {}, late.dominant_cause.replace(/_/g, ' ')), '.'),
    h('div', { class: 'gp-bars', title: 'minutes of the chain by cause' },
      late.minutes_by_cause.filter((c) => c.minutes > 0).map((c) => h('span', {
        title: `${c.cause}: ${formatMinutes(c.minutes)}`,
        style: `width:${(100 * c.minutes) / total}%;background:${CAUSE_COLOURS[c.cause] || '#999'}`,
      }))),
    h('div', { class: 'gp-legend' }, late.minutes_by_cause.filter((c) => c.minutes > 0).map((c) =>
      h('span', {}, h('i', { style: `background:${CAUSE_COLOURS[c.cause] || '#999'}` }), `${c.cause.replace(/_/g, ' ')} ${formatMinutes(c.minutes)}`))),
    h('div', {}, h('b', {}, 'Chain'), h('span', { class: 'gp-muted' }, ' — from the completion back to the release')),
    h('ol', { dataset: { test: 'explain-links' } }, late.chain.map((link) => h('li', { dataset: { test: 'explain-link', cause: link.cause } },
      h('span', { class: 'gp-cause', style: `background:${CAUSE_COLOURS[link.cause] || '#999'}` }, link.cause.replace(/_/g, ' ')),
      ...linkText(link, ctx, late.order),
      h('div', { class: 'gp-muted' }, `${at(link.from)} → ${at(link.to)} · ${formatMinutes(link.minutes)}`)))),
    lots);
}

/** Lots the order consumed and produced so far (genealogy), as links. */
async function lotsOf(ctx, order) {
  if (!ctx.can('read_trace')) return null;
  const box = h('div', { dataset: { test: 'order-lots' } }, h('b', {}, 'Lots'), ' ', h('span', { class: 'gp-muted' }, 'loading…'));
  const get = (dir) => ctx.api(`/v1/trace/${dir}/${encodeURIComponent(order)}`).catch(() => null);
  Promise.all([get('backward'), get('forward')]).then(([back, fwd]) => {
    const lots = (tree) => (tree?.nodes || []).filter((n) => n.kind === 'lot' && n.depth === 1).map((n) => n.label);
    const used = lots(back);
    const made = lots(fwd);
    box.replaceChildren(h('b', {}, 'Lots'), ' ');
    if (!used.length && !made.length) box.append(h('span', { class: 'gp-muted' }, 'none yet: the order has not consumed or produced a lot'));
    if (used.length) box.append(h('div', {}, 'consumed: ', used.flatMap((l, i) => [i ? ', ' : '', ctx.link('lot', l)])));
    if (made.length) box.append(h('div', {}, 'produced: ', made.flatMap((l, i) => [i ? ', ' : '', ctx.link('lot', l)])));
  });
  return box;
}

export async function render(view, ctx) {
    const state = {
    source: 'plan', // or 'file': a problem file solved on the spot
    colorBy: 'order',
    plan: null,
    problem: null,
    plant: null,
    workCenters: null,
    explanation: null, // {late_orders, …} in the problem's minutes
    explainShift: 0, // minutes from the model's origin to the explanation's minute 0
    explainOrigin: null, // epoch ms of the explanation's minute 0
    explainedVersion: null,
    explainedAt: 0,
    model: null,
    file: null,
    highlight: ctx.params.get('order'),
    loading: null,
  };

  const title = h('h2', { dataset: { test: 'gantt-title' } }, 'Plan in force');
  const meta = h('span', { class: 'gp-meta', dataset: { test: 'gantt-meta' } });
  const kpis = h('div', { class: 'gp-kpis', dataset: { test: 'gantt-kpis' } });
  const banner = h('div', { class: 'gp-banner', dataset: { test: 'gantt-banner' }, style: 'display:none' });
  const lateBox = h('div', { class: 'gp-late', dataset: { test: 'late-orders' } });
  const legendBox = h('div');
  const chartBox = h('div', { class: 'gp-chart', dataset: { test: 'gantt' } });
  const side = h('aside', { class: 'gp-side', dataset: { test: 'gantt-side' }, style: 'display:none' });
  const status = h('span', { class: 'gp-muted', dataset: { test: 'gantt-status' } });
  const seg = (pairs, current, onPick) => {
    const box = h('span', { class: 'gp-seg', role: 'group' });
    for (const [value, label] of pairs) {
      const button = h('button', {
        type: 'button', 'aria-pressed': String(value === current), dataset: { test: `gantt-colour-${value}` },
        onclick: () => {
          for (const b of box.children) b.setAttribute('aria-pressed', String(b === button));
          onPick(value);
        },
      }, label);
      box.append(button);
    }
    return box;
  };
  const fileInput = h('input', { type: 'file', accept: '.json,application/json', dataset: { test: 'gantt-problem-file' }, style: 'display:none' });
  const tools = h('div', { class: 'gp-tools' },
    'Colour by ', seg([['order', 'order'], ['family', 'product family']], state.colorBy, (v) => {
      state.colorBy = v;
      chart.setColorBy(v);
      legendBox.replaceChildren(legend(chart, v));
    }),
    h('button', { type: 'button', dataset: { test: 'gantt-zoom-in' }, title: 'Zoom in (wheel, +)', onclick: () => chart.zoomBy(1.6) }, '+'),
    h('button', { type: 'button', dataset: { test: 'gantt-zoom-out' }, title: 'Zoom out (wheel, −)', onclick: () => chart.zoomBy(1 / 1.6) }, '−'),
    h('button', { type: 'button', dataset: { test: 'gantt-fit' }, title: 'Whole schedule (0)', onclick: () => chart.fit() }, 'Fit'),
    ctx.can('write_schedule')
      ? h('button', { type: 'button', dataset: { test: 'gantt-solve-file' }, title: 'Solve a native problem file (mixplane schedule generate / export) and show its schedule here', onclick: () => fileInput.click() }, 'Solve a problem file…')
      : null,
    fileInput, status);
  view.replaceChildren(
    h('div', { class: 'gp-bar' }, title, meta),
    banner, kpis, tools, lateBox, legendBox,
    h('div', { class: 'gp-main' }, chartBox, side));

  const chart = new GanttChart(chartBox, { onSelect: (hit) => select(hit) });
  // For the browser test and anyone profiling: draw timings, and where an order's operation is.
  window.__mixplaneGantt = chart.stats;
  chart.stats.view = chart.view;
  chart.stats.locate = (order) => chart.locateOrder(order);

  function showLate() {
    const late = state.model?.lateOrders || [];
    // Tests and readers can tell the engine's explanation from the due-date estimate.
    lateBox.dataset.source = state.explanation ? 'explanation' : 'due-dates';
    lateBox.title = state.explanation
      ? 'late by the engine\'s explanation of this schedule against the plant as it is now'
      : 'late by due date (the engine\'s explanation is on its way)';
    lateBox.replaceChildren(h('b', {}, `Late orders (${late.length})`), late.length ? ': ' : ': none');
    const shown = late.slice(0, 24);
    for (const o of shown) {
      lateBox.append(h('button', {
        type: 'button', class: o.id === state.highlight ? 'on' : '', dataset: { test: 'late-order', order: o.id },
        title: `${o.id} is ${formatMinutes(o.late)} late — show why`, onclick: () => openOrder(o.id, true),
      }, `${o.id} +${formatMinutes(o.late)}`));
    }
    if (late.length > shown.length) lateBox.append(h('span', { class: 'gp-muted' }, `and ${late.length - shown.length} more`));
  }

  function showHeader() {
    if (state.source === 'file') {
      const f = state.file;
      title.textContent = `Solved: ${f.name}`;
      meta.textContent = `${f.problem.operations.length} operations of ${f.problem.orders.length} orders on ${f.problem.units.length} units, from ${f.problem.horizon_start}`;
      banner.style.display = '';
      banner.replaceChildren('A problem file solved by the engine (', h('code', {}, 'POST /v1/schedule/solve'),
        `, ${f.answer.iterations} improving iterations${Number.isFinite(f.answer.optimality?.gap_percent) ? `, at most ${f.answer.optimality.gap_percent.toFixed(1)} % above the lower bound` : ''}) — not the plan in force. `,
        h('button', { type: 'button', dataset: { test: 'gantt-back-to-plan' }, onclick: () => backToPlan() }, 'Back to the plan in force'));
      setKpis(f.answer.kpis);
      return;
    }
    banner.style.display = 'none';
    const p = state.plan;
    title.textContent = `Plan in force — version ${p.version}`;
    meta.replaceChildren(`made ${formatInstant(parseTime(p.made_at))} by ${p.made_by}${p.modified_by ? ` (${p.modified_by})` : ''}: ${p.reason}`,
      p.proposal ? h('span', {}, ' · from ', ctx.link('proposal', p.proposal)) : '',
      p.area ? ` · area ${p.area}` : '');
    setKpis(p.kpis);
  }

  function setKpis(k) {
    const item = (label, value) => h('span', {}, `${label} `, h('b', {}, value));
    kpis.replaceChildren(
      item('makespan', formatMinutes(k.makespan)),
      item('late orders', String(k.late_orders)),
      item('weighted tardiness', `${Math.round(k.weighted_tardiness)} min`),
      item('changeovers', `${k.changeovers} (${formatMinutes(k.changeover_minutes)})`),
      item('CIPs', String(k.cips)),
      item('utilisation', `${k.utilization_percent.toFixed(1)} %`),
      item('operations', String(state.model?.opCount ?? '…')));
  }

  function lateMap() {
    if (!state.explanation) return null;
    return new Map(state.explanation.late_orders.map((l) => [l.order, l.minutes_late]));
  }

  function rebuild(keepView) {
    if (state.source === 'file') {
      const f = state.file;
      state.model = buildModel({ origin: parseTime(f.problem.horizon_start), assignments: f.answer.schedule.assignments, problem: f.problem, late: lateMap() });
      state.explainShift = 0;
    } else {
      const origin = parseTime(state.plan.horizon_start);
      state.model = buildModel({
        origin, assignments: state.plan.assignments, problem: state.problem, plant: state.plant,
        workCenters: state.workCenters, late: lateMap(),
        now: state.problem ? Math.round((parseTime(state.problem.horizon_start) - origin) / 60000) : null,
      });
      state.explainShift = state.explanation && state.explainOrigin !== null
        ? Math.round((state.explainOrigin - origin) / 60000)
        : state.model.shift;
    }
    chart.setModel(state.model, { keepView });
    chart.setColorBy(state.colorBy);
    chart.setHighlight(state.highlight);
    showHeader();
    showLate();
    legendBox.replaceChildren(legend(chart, state.colorBy));
  }

  /** The server's explanation of the plan in force, rebased on the plant as it is now. */
  function explainPlan() {
    return ctx.api('/v1/schedule/explain');
  }

  async function loadPlan(keepView) {
    const [plan, problem, plant, workCenters] = await Promise.all([
      ctx.api('/v1/schedule'),
      ctx.api('/v1/schedule/problem').then((a) => a.problem).catch(() => null),
      state.plant ? state.plant : ctx.api('/v1/plant').catch(() => null),
      ctx.api('/v1/work-centers').catch(() => null),
    ]);
    Object.assign(state, { plan, problem, plant, workCenters });
    if (state.source !== 'plan') return;
    // Draw at once with due-date lateness; the engine's explanation follows.
    rebuild(keepView);
    if (!keepView && state.highlight) openOrder(state.highlight, true);
    if (!keepView && ctx.params.get('unit')) {
      const top = chart.markUnit(ctx.params.get('unit'));
      if (top !== null) window.scrollTo({ top: chartBox.getBoundingClientRect().top + window.scrollY + top - 120 });
    }
    chart.stats.refreshes = (chart.stats.refreshes || 0) + 1;
    // The explanation is the costly part: redone when the plan changed, else twice a minute.
    const stale = !state.explanation || state.explainedVersion !== plan.version || Date.now() - state.explainedAt > 30_000;
    if (problem && stale) {
      const explanation = await explainPlan().catch((e) => {
        status.textContent = `no explanation: ${e.message}`;
        return null;
      });
      if (explanation && state.source === 'plan' && state.plan === plan) {
        Object.assign(state, {
          explanation, explainedVersion: plan.version, explainedAt: Date.now(), explainOrigin: parseTime(problem.horizon_start),
        });
        rebuild(true);
        if (state.highlight && side.style.display !== 'none') openOrder(state.highlight, false);
      }
    }
  }

  async function refresh(keepView) {
    if (state.loading) {
      state.again = true;
      return;
    }
    state.loading = loadPlan(keepView).catch((e) => {
      if (e.status === 404) {
        title.textContent = 'No plan in force';
        status.textContent = e.message;
      } else ctx.toast?.(`Gantt: ${e.message}`, 'error');
    });
    await state.loading;
    state.loading = null;
    if (state.again) {
      state.again = false;
      refresh(true);
    }
  }

  async function openOrder(order, focus) {
    state.highlight = order;
    chart.setHighlight(order);
    if (focus) chart.focusOrder(order);
    showLate();
    const entry = state.model?.orders.get(order);
    side.style.display = '';
    const close = h('button', { type: 'button', style: 'float:right', dataset: { test: 'gantt-side-close' }, onclick: () => {
      side.style.display = 'none';
      state.highlight = null;
      chart.setHighlight(null);
      chart.setSelected(null);
      showLate();
    } }, '×');
    if (!entry) {
      side.replaceChildren(close, h('p', {}, ctx.link('order', order), ' has no operation in this schedule.'));
      return;
    }
    const lots = state.source === 'plan' ? await lotsOf(ctx, order) : null;
    const origin = state.model.origin;
    if (!entry.late) {
      const last = Math.max(...entry.ops.map((o) => o.end));
      const open = state.source === 'file' || !state.problem || state.problem.orders.some((o) => o.id === order);
      side.replaceChildren(close, h('div', { dataset: { test: 'order-on-time', order } },
        h('h3', {}, ctx.link('order', order), open ? ' is on time' : ' has nothing left to plan'),
        open ? null : h('p', { class: 'gp-muted' }, 'Its steps in this plan have completed or are running: the plant as it is now has no open step of it to schedule.'),
        h('p', {}, `${entry.ops.length} operation(s), the last ends ${formatInstant(origin + last * 60000)}.`),
        h('ul', {}, entry.ops.map((o) => h('li', {}, `${o.id} on `, ctx.link('unit', o.unit), ` ${formatInstant(origin + o.start * 60000)} → ${formatInstant(origin + o.end * 60000, false)}`))),
        lots));
      return;
    }
    side.replaceChildren(close, h('p', { class: 'gp-muted' }, `Explaining ${order}…`));
    try {
      const late = await lateChain(order);
      if (state.highlight !== order) return;
      if (!late) {
        side.replaceChildren(close, h('p', { dataset: { test: 'explain-chain', order } }, ctx.link('order', order),
          ` is ${formatMinutes(entry.late)} late by its due date in this plan; the engine's explanation of the plant as it is now finds it on time.`), lots);
        return;
      }
      side.replaceChildren(close, explainPanel(late, { ctx, origin, shift: state.explainShift, lots }));
    } catch (e) {
      side.replaceChildren(close, h('p', { dataset: { test: 'explain-error' } }, `No explanation for ${order}: ${e.message}`));
    }
  }

  async function lateChain(order) {
    if (!state.explanation && state.source === 'file') {
      status.textContent = 'explaining the schedule…';
      state.explanation = await ctx.api('/v1/schedule/explain', { method: 'POST', body: { problem: state.file.problem, schedule: state.file.answer.schedule } });
      status.textContent = '';
    }
    if (!state.explanation && state.source === 'plan') {
      const explanation = await explainPlan();
      Object.assign(state, {
        explanation, explainedVersion: state.plan.version, explainedAt: Date.now(), explainOrigin: parseTime(state.problem.horizon_start),
      });
      state.explainShift = Math.round((state.explainOrigin - state.model.origin) / 60000);
    }
    return state.explanation.late_orders.find((l) => l.order === order) || null;
  }

  function select(hit) {
    if (hit?.kind === 'op') {
      openOrder(hit.op.order, false);
    }
  }

  async function solveFile(file) {
    status.textContent = `reading ${file.name}…`;
    let problem;
    try {
      const doc = JSON.parse(await file.text());
      problem = doc.problem && doc.problem.operations ? doc.problem : doc;
      if (!Array.isArray(problem.operations)) throw new Error('not a native problem (no operations)');
    } catch (e) {
      status.textContent = '';
      ctx.toast?.(`${file.name}: ${e.message}`, 'error');
      return;
    }
    const started = performance.now();
    status.textContent = `solving ${problem.operations.length} operations…`;
    try {
      const answer = await ctx.api('/v1/schedule/solve', { method: 'POST', body: { problem, explain: false, time_limit_seconds: 1 } });
      const solvedAt = performance.now();
      chart.stats.fileSolvedAt = solvedAt;
      state.source = 'file';
      state.file = { name: file.name, problem, answer };
      state.explanation = null;
      state.highlight = null;
      side.style.display = 'none';
      rebuild(false);
      chart.stats.fileSolveMs = solvedAt - started;
      chart.stats.fileStartedAt = started;
      status.textContent = `solved in ${((solvedAt - started) / 1000).toFixed(1)} s`;
    } catch (e) {
      status.textContent = '';
      ctx.toast?.(`${file.name}: ${e.message}`, 'error');
    }
  }

  function backToPlan() {
    state.source = 'plan';
    state.file = null;
    state.explanation = null;
    state.highlight = null;
    side.style.display = 'none';
    refresh(false);
  }

  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    fileInput.value = '';
    if (f) solveFile(f);
  });

  await refresh(false);

  // The plant's events touch the `plan` topic about once a second at demo speed: refetch at
  // most every few seconds, keeping the zoom and pan.
  let liveTimer = 0;
  let lastLive = 0;
  ctx.live(({ topics }) => {
    if (state.source !== 'plan' || !topics.includes('plan') || liveTimer) return;
    liveTimer = setTimeout(() => {
      liveTimer = 0;
      lastLive = Date.now();
      if (state.source === 'plan') refresh(true);
    }, Math.max(0, lastLive + 4000 - Date.now()));
  });
  return () => {
    clearTimeout(liveTimer);
    chart.destroy();
  };
}
