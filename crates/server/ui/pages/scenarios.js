// pages/scenarios.js — the what-if view (#/scenarios): scenarios side by side with KPIs and per-order lateness risk, re-ranked by the planner's weights, each one's Gantt, and the commit of one as a governed proposal.
//
// The what-ifs run on the problem of the plant as it is now, fetched here and sent along
// (with the plan in force rebased on it as the reference), so the commit names the very
// problem the scenario's minutes count from: at any plant speed the plant's clock moves
// between the run and the commit, and a commit without a problem would re-derive a newer one.

import { GanttChart, formatMinutes } from '../lib/gantt.js';
import { buildModel, parseTime } from '../lib/gantt-model.js';
import { h, legend } from './gantt.js';



const KINDS = {
  as_planned: 'As planned',
  maximize_throughput: 'Maximise throughput',
  minimize_tardiness: 'Minimise tardiness',
  minimize_changeovers: 'Minimise changeovers',
  overtime_on_bottleneck: 'Overtime on the bottleneck',
  defer_low_priority: 'Defer low-priority orders',
};
const WHAT_IFS = ['maximize_throughput', 'minimize_tardiness', 'minimize_changeovers', 'overtime_on_bottleneck', 'defer_low_priority'];
const DEFAULT_WHAT_IFS = ['maximize_throughput', 'minimize_changeovers', 'overtime_on_bottleneck', 'defer_low_priority'];
const WEIGHTS = [
  ['throughput', 'Throughput', '#4e79a7'],
  ['changeover_cost', 'Changeover cost', '#edc948'],
  ['on_time', 'On time', '#59a14f'],
];

/** The server's ranking (schedule::plant::scenario::rank) with other weights: the per-KPI
 * scores do not depend on the weights, so re-weighting them ranks exactly as a re-run would. */
export function rerank(scenarios, w) {
  const sum = w.throughput + w.changeover_cost + w.on_time || 1;
  const scored = scenarios.map((s, i) => ({
    s, i,
    total: (w.throughput * s.scores.throughput + w.changeover_cost * s.scores.changeover_cost + w.on_time * s.scores.on_time) / sum,
  }));
  scored.sort((a, b) => b.total - a.total || a.i - b.i);
  return scored.map((x, k) => ({ ...x, rank: k + 1 }));
}

/** The scenario's problem: the original plus its overtime windows (as `problem_with`). */
function problemWith(problem, changes) {
  if (!changes?.overtime?.length) return problem;
  const units = problem.units.map((u) => ({ ...u }));
  const pools = problem.pools.map((p) => ({ ...p }));
  for (const o of changes.overtime) {
    const list = o.kind === 'unit' ? units : pools;
    const it = list.find((x) => x.id === o.id);
    if (it && it.availability) it.availability = [...it.availability, ...o.windows];
  }
  return { ...problem, units, pools };
}

const pct = (x) => `${(100 * x).toFixed(1)} %`;

export async function render(view, ctx) {
  const canRun = ctx.can('write_schedule');
  const canCommit = canRun && ctx.can('propose_changes');
  const state = {
    report: null, problem: null, plan: null, plant: null,
    weights: { throughput: 1, changeover_cost: 1, on_time: 1 },
    ganttKind: null, committed: null, running: false,
  };

  const status = h('span', { class: 'sp-note', dataset: { test: 'scenarios-status' } });
  const weightsBox = h('div', { class: 'sp-weights', dataset: { test: 'scenario-weights' }, style: 'display:none' });
  const grid = h('div', { class: 'sp-grid', dataset: { test: 'scenario-grid' } });
  const notes = h('div', { dataset: { test: 'scenario-notes' } });
  const riskBox = h('div', { dataset: { test: 'risk-box' } });
  const ganttTitle = h('h3', { style: 'margin:12px 0 6px;font-size:1rem' });
  const ganttLegend = h('div');
  const ganttBox = h('div', { class: 'gp-chart', dataset: { test: 'scenario-gantt' } });
  const ganttPanel = h('section', { dataset: { test: 'scenario-gantt-panel' }, style: 'display:none' }, ganttTitle, ganttLegend, ganttBox);
  const result = h('div', { dataset: { test: 'commit-result' } });
  const recent = h('section', { dataset: { test: 'scenario-proposals' } });

  let controls = null;
  if (canRun) {
    const budget = h('select', { dataset: { test: 'scenarios-budget' } },
      [2, 5, 10, 20].map((s) => h('option', { value: s, selected: s === 5 }, `${s} s`)));
    const picks = WHAT_IFS.map((k) => h('input', { type: 'checkbox', value: k, checked: DEFAULT_WHAT_IFS.includes(k), dataset: { test: `whatif-${k}` } }));
    const run = h('button', { type: 'button', class: 'primary', dataset: { test: 'scenarios-run' }, onclick: () => {
      const kinds = picks.filter((p) => p.checked).map((p) => p.value);
      if (kinds.length < 2) {
        status.textContent = 'Pick 2 to 5 what-ifs.';
        return;
      }
      runScenarios(kinds, Number(budget.value));
    } }, 'Run what-ifs');
    controls = h('div', { class: 'sp-controls' }, run,
      h('label', {}, 'search budget ', budget),
      h('span', {}, 'what-ifs: '),
      picks.map((p) => h('label', {}, p, KINDS[p.value])));
  }

  view.replaceChildren(
    h('h2', { style: 'margin:0 0 6px;font-size:1.15rem' }, 'What-if scenarios'),
    h('p', { class: 'sp-intro' },
      'Alternatives to the plan in force, computed by the engine on the plant as it is now: objective presets, overtime on the bottleneck, later due dates for the lowest-priority orders. ',
      'Each shows its KPIs and each order\u2019s risk of lateness (Monte Carlo over the durations). Weigh the KPIs to rank them; commit one to send it through governance as a schedule change.'),
    controls || h('p', { class: 'sp-note', dataset: { test: 'scenarios-readonly' } }, 'Running and committing what-ifs is for planners; the scenario proposals below show what was committed.'),
    status, weightsBox, grid, notes, result, riskBox, ganttPanel, recent);

  const chart = new GanttChart(ganttBox, { testId: 'scenario-gantt-canvas' });
  window.__mixplaneScenarioGantt = chart.stats;

  function weightControls() {
    weightsBox.style.display = '';
    weightsBox.replaceChildren(h('b', {}, 'KPI weights'));
    for (const [key, label, colour] of WEIGHTS) {
      const out = h('output', { dataset: { test: `weight-${key}-value` } }, state.weights[key].toFixed(1));
      const slider = h('input', {
        type: 'range', min: 0, max: 5, step: 0.5, value: state.weights[key], dataset: { test: `weight-${key}` },
        'aria-label': `weight of ${label}`,
        oninput: () => {
          state.weights[key] = Number(slider.value);
          out.textContent = state.weights[key].toFixed(1);
          if (state.weights.throughput + state.weights.changeover_cost + state.weights.on_time === 0) {
            state.weights[key] = 0.5;
            slider.value = 0.5;
            out.textContent = '0.5';
          }
          showCards();
          showRisk();
        },
      });
      weightsBox.append(h('label', {}, h('i', { style: `display:inline-block;width:10px;height:10px;background:${colour}` }), ` ${label} `, slider, out));
    }
  }

  function touchedAreas(s) {
    // Units whose work changes (moved or re-assigned operations, overtime), by plant area:
    // the proposal belongs to one of them.
    const before = new Map((state.problem.reference || []).map((a) => [a.op, a]));
    const units = new Set();
    for (const a of s.schedule.assignments) {
      const b = before.get(a.op);
      if (!b || b.unit !== a.unit || b.start !== a.start) {
        units.add(a.unit);
        if (b) units.add(b.unit);
      }
    }
    for (const o of s.changes.overtime) if (o.kind === 'unit') units.add(o.id);
    const wcArea = new Map((state.plant?.work_centers || []).map((w) => [w.id, w.area]));
    const counts = new Map();
    for (const u of state.plant?.units || []) {
      if (!units.has(u.id)) continue;
      const area = wcArea.get(u.work_center);
      if (area) counts.set(area, (counts.get(area) || 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([a]) => a);
  }

  function card(entry, best) {
    const s = entry.s;
    const k = s.kpis;
    const row = (label, value, test) => h('tr', {}, h('td', {}, label), h('td', { dataset: test ? { test } : undefined }, value));
    const sum = state.weights.throughput + state.weights.changeover_cost + state.weights.on_time || 1;
    const bar = h('div', { class: 'sp-score', title: 'weighted score by KPI' },
      WEIGHTS.map(([key, label, colour]) => h('span', {
        title: `${label}: score ${s.scores[key].toFixed(2)} × weight ${state.weights[key]}`,
        style: `width:${(100 * state.weights[key] * s.scores[key]) / sum}%;background:${colour}`,
      })));
    const changes = [];
    if (s.changes.overtime.length) changes.push(`overtime on ${s.changes.overtime.map((o) => o.id).join(', ')}`);
    if (s.changes.deferred.length) changes.push(`${s.changes.deferred.length} order(s) due later: ${s.changes.deferred.map((d) => d.order).join(', ')}`);
    const description = s.scenario === 'as_planned'
      ? 'the plan in force on the plant as it is now (repaired where the plant moved away from it)'
      : s.description;
    const actions = h('div', { class: 'sp-actions' },
      h('button', { type: 'button', dataset: { test: 'scenario-gantt-open' }, onclick: () => showGantt(s.scenario) }, 'Gantt'));
    const box = h('article', { class: `sp-card${best ? ' best' : ''}`, dataset: { test: 'scenario-card', scenario: s.scenario, rank: String(entry.rank) } },
      h('h3', {}, h('span', { class: 'sp-rank', dataset: { test: 'scenario-rank' } }, String(entry.rank)), KINDS[s.scenario] || s.scenario),
      h('div', { class: 'sp-note', style: 'margin:0' }, description),
      bar,
      h('div', {}, 'score ', h('b', { dataset: { test: 'scenario-score' } }, entry.total.toFixed(3))),
      h('table', {},
        row('late orders', String(k.late_orders), 'kpi-late'),
        row('expected late', k.expected_late_orders.toFixed(1)),
        row('risk of lateness', pct(k.on_time_risk), 'kpi-risk'),
        row('weighted tardiness', `${Math.round(k.weighted_tardiness)} min`),
        row('makespan', formatMinutes(k.makespan_minutes)),
        row('throughput', `${k.throughput_orders_per_day.toFixed(2)} orders/day`),
        row('changeovers', `${formatMinutes(k.changeover_minutes)} · cost ${Math.round(k.changeover_cost)}`),
        row('utilisation', `${k.utilization_percent.toFixed(1)} %`),
        k.overtime_minutes ? row('overtime used', formatMinutes(k.overtime_minutes)) : null),
      changes.length ? h('div', { class: 'sp-note', style: 'margin:0' }, changes.join('; ')) : null,
      actions);
    if (canCommit) {
      actions.append(h('button', { type: 'button', class: 'primary', dataset: { test: 'scenario-commit' }, onclick: () => confirmCommit(box, s) }, 'Commit…'));
    }
    return box;
  }

  function confirmCommit(box, s) {
    box.querySelector('.sp-confirm')?.remove();
    const areas = touchedAreas(s);
    const area = areas.length > 1
      ? h('select', { dataset: { test: 'commit-area' } }, areas.map((a) => h('option', { value: a }, a)))
      : null;
    const go = h('button', { type: 'button', class: 'primary', dataset: { test: 'commit-confirm' }, onclick: () => commit(s, area?.value, go) }, 'Commit as proposal');
    box.append(h('div', { class: 'sp-confirm' },
      `Propose ${KINDS[s.scenario]} as the plan: a schedule_change proposal that the policy applies or holds for approval.`,
      area ? h('label', {}, 'proposal area ', area) : null,
      h('div', { class: 'sp-actions' }, go,
        h('button', { type: 'button', onclick: (ev) => ev.target.closest('.sp-confirm').remove() }, 'Cancel'))));
  }

  function showCards() {
    if (!state.report) return;
    const ranked = rerank(state.report.scenarios, state.weights);
    grid.replaceChildren(...ranked.map((e, i) => card(e, i === 0)));
  }

  function showRisk() {
    if (!state.report) return;
    const ranked = rerank(state.report.scenarios, state.weights).map((e) => e.s);
    const risk = new Map();
    for (const s of ranked) {
      for (const r of s.order_risk) {
        if (!risk.has(r.order)) risk.set(r.order, new Map());
        risk.get(r.order).set(s.scenario, r);
      }
    }
    const orders = [...risk.entries()]
      .map(([order, by]) => [order, by, Math.max(...[...by.values()].map((r) => r.probability_late))])
      .filter(([, , worst]) => worst > 0)
      .sort((a, b) => b[2] - a[2] || (a[0] < b[0] ? -1 : 1));
    let showAll = false;
    const table = () => {
      const rows = showAll ? orders : orders.slice(0, 20);
      return h('table', { class: 'sp-risk', dataset: { test: 'risk-table' } },
        h('thead', {}, h('tr', {}, h('th', {}, 'order'), ranked.map((s) => h('th', {}, KINDS[s.scenario] || s.scenario)))),
        h('tbody', {}, rows.map(([order, by]) => h('tr', { dataset: { test: 'risk-row', order } },
          h('td', {}, ctx.link('order', order)),
          ranked.map((s) => {
            const r = by.get(s.scenario);
            const p = r ? r.probability_late : 0;
            return h('td', {
              title: r && p > 0 ? `late in ${pct(p)} of the runs, by ${formatMinutes(r.mean_minutes_late)} on average` : 'on time in every run',
              style: `background:rgba(214,39,40,${(0.08 + 0.6 * p).toFixed(2)})`,
            }, pct(p));
          })))));
    };
    const box = h('div');
    const render = () => {
      box.replaceChildren(table());
      if (orders.length > 20) {
        box.append(h('button', { type: 'button', dataset: { test: 'risk-toggle' }, onclick: () => { showAll = !showAll; render(); } },
          showAll ? 'Show the 20 most at risk' : `Show all ${orders.length} orders at risk`));
      }
    };
    render();
    riskBox.replaceChildren(h('h3', { style: 'margin:8px 0 4px;font-size:1rem' }, 'Risk of lateness per order'),
      h('p', { class: 'sp-note' }, `Share of the Monte Carlo runs in which the order finishes after its due date; orders on time in every run of every scenario are left out (${orders.length} at risk).`),
      box);
  }

  function showGantt(kind) {
    const s = state.report?.scenarios.find((x) => x.scenario === kind);
    if (!s) return;
    state.ganttKind = kind;
    ganttPanel.style.display = '';
    const problem = problemWith(state.problem, s.changes);
    const origin = parseTime(problem.horizon_start);
    const model = buildModel({ origin, assignments: s.schedule.assignments, problem, plant: state.plant, now: 0 });
    ganttTitle.replaceChildren(`Gantt of ${KINDS[kind] || kind}`, h('span', { class: 'sp-note' },
      ` — ${model.opCount} operations, ${model.lateOrders.length} late by their original due dates`));
    ganttTitle.dataset.test = 'scenario-gantt-title';
    ganttTitle.dataset.scenario = kind;
    chart.setModel(model);
    ganttLegend.replaceChildren(legend(chart, 'order'));
    ganttPanel.scrollIntoView?.({ block: 'nearest' });
  }

  async function runScenarios(kinds, seconds) {
    if (state.running) return;
    state.running = true;
    status.textContent = `Running ${kinds.length} what-ifs on the plant as it is now (${seconds} s)…`;
    try {
      const [plan, plant] = await Promise.all([
        ctx.api('/v1/schedule').catch((e) => (e.status === 404 ? null : Promise.reject(e))),
        state.plant ? state.plant : ctx.api('/v1/plant').catch(() => null),
      ]);
      const started = performance.now();
      // Without a problem the server takes the plant as it is now and the plan in force on
      // it, and answers that basis; the commit sends it back, so that what is committed is
      // measured against what was compared, however far the live plant has moved since.
      const report = await ctx.api('/v1/schedule/scenarios', {
        method: 'POST',
        body: { scenarios: kinds, ranking: state.weights, time_limit_seconds: seconds },
      });
      const problem = report.basis.problem;
      const basisPlan = report.basis.plan || null;
      problem.reference = basisPlan ? basisPlan.assignments : (problem.reference || []);
      Object.assign(state, { report, problem, plan, plant, ganttKind: null });
      status.textContent = `${report.scenarios.length} scenarios in ${((performance.now() - started) / 1000).toFixed(1)} s, on the plant as of ${problem.horizon_start}${report.bottleneck ? `; bottleneck ${report.bottleneck.unit}` : ''}.`;
      weightControls();
      showCards();
      showRisk();
      const none = [...report.none_found, ...report.skipped];
      notes.replaceChildren(...none.map((n) => h('p', { class: 'sp-note', dataset: { test: 'scenario-none-found', scenario: n.scenario } },
        h('b', {}, `${KINDS[n.scenario] || n.scenario}: `), n.reason)));
      ganttPanel.style.display = 'none';
    } catch (e) {
      status.textContent = `What-ifs failed: ${e.message}`;
    } finally {
      state.running = false;
    }
  }

  async function commit(s, area, button) {
    button.disabled = true;
    result.className = 'sp-result';
    result.replaceChildren(`Committing ${KINDS[s.scenario]}…`);
    try {
      // The plan in force rides as the problem's `reference` (what the diff's `before` is):
      // as the MES was told it, which need not pass the checker on the plant as it is now.
      const body = { problem: state.problem, scenario: { scenario: s.scenario, changes: s.changes, schedule: s.schedule } };
      if (area) body.area = area;
      const proposal = await ctx.api('/v1/schedule/scenarios/commit', { method: 'POST', body });
      state.committed = proposal;
      showCommitted(proposal);
      button.closest('.sp-confirm')?.remove();
      loadRecent();
    } catch (e) {
      result.className = 'sp-result error';
      result.dataset.test = 'commit-result';
      result.replaceChildren(h('span', { dataset: { test: 'commit-error' } }, `Not committed: ${e.message}`));
      button.disabled = false;
    }
  }

  function governance(p) {
    const gate = p.gate || {};
    if (p.status === 'proposed') {
      return `waiting for ${gate.approvals ?? '?'} approval(s) by ${(gate.approver_roles || []).join(', ')}`;
    }
    return p.status;
  }

  function showCommitted(p) {
    result.className = 'sp-result';
    const reasons = p.gate?.reasons || [];
    result.replaceChildren(
      h('div', {}, 'Committed as ', ctx.link('proposal', p.id), ' (', h('code', { dataset: { test: 'committed-proposal' } }, p.id), `, ${p.kind}, area ${p.area}): `,
        h('b', { dataset: { test: 'committed-status', status: p.status } }, p.status), ` — ${governance(p)}.`),
      h('div', { class: 'sp-note', style: 'margin:4px 0 0' }, p.title),
      reasons.length ? h('details', {}, h('summary', {}, `why it needs approval (${reasons.length})`),
        h('ul', {}, reasons.slice(0, 12).map((r) => h('li', {}, r)))) : null);
  }

  async function loadRecent() {
    if (!ctx.can('read_proposals')) return;
    try {
      const list = await ctx.api('/v1/proposals?kind=schedule_change&limit=10');
      const items = (list.items || []).filter((p) => p.evidence?.engine === 'mixplane-scenarios' || /^Scenario /.test(p.title));
      recent.replaceChildren(h('h3', { style: 'margin:12px 0 4px;font-size:1rem' }, 'Committed scenarios'),
        items.length
          ? h('ul', { style: 'font-size:.85rem;padding-left:18px' }, items.map((p) => h('li', { dataset: { test: 'scenario-proposal', id: p.id, status: p.status } },
            ctx.link('proposal', p.id), ` ${p.status} · ${p.proposed_by} · `, p.title)))
          : h('p', { class: 'sp-note' }, 'No scenario has been committed yet.'));
    } catch (e) {
      recent.replaceChildren(h('p', { class: 'sp-note' }, `Proposals: ${e.message}`));
    }
  }

  loadRecent();
  ctx.live(async ({ topics }) => {
    if (!topics.includes('proposals')) return;
    loadRecent();
    if (state.committed) {
      try {
        const p = await ctx.api(`/v1/proposals/${encodeURIComponent(state.committed.id)}`);
        state.committed = p.proposal || p;
        showCommitted(state.committed);
      } catch { /* the list above still shows it */ }
    }
  });
  return () => chart.destroy();
}
