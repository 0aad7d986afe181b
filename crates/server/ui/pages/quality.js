// The quality page (#/quality): characteristics, a control chart with capability, alerts, holds (release) and nonconformances (workflow).

import { drawControlChart, fmt } from '../lib/chart.js';
import { el } from '../lib/dom.js';

const WINDOWS = [200, 500, 2000, 0]; // points shown; 0 = all
const NC_STATES = ['open', 'investigating', 'dispositioned', 'capa', 'verified', 'closed'];
const DISPOSITIONS = ['use_as_is', 'rework', 'scrap', 'return'];
const ALERT_ROWS = 20;
const HOLD_ROWS = 25;

const ncBadge = (state) => ({ open: 'bad', investigating: 'warn', dispositioned: 'warn', capa: 'warn', verified: 'ok', closed: 'ok' })[state] || '';
const words = (s) => String(s).replace(/_/g, ' ');
function when(t) {
  if (!t) return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)}`;
}

/** `lot:ID` keys (NC items) and `{kind, id}` refs (alerts, points) both become entity links. */
function itemLink(ctx, item) {
  const [kind, id] = typeof item === 'string' ? [item.slice(0, item.indexOf(':')), item.slice(item.indexOf(':') + 1)] : [item.kind, item.id];
  return ['lot', 'serial', 'order'].includes(kind) ? ctx.link(kind, id, `${kind} ${id}`) : el('span', {}, `${kind} ${id}`);
}

function itemLinks(ctx, items, max = 4) {
  const out = [];
  items.slice(0, max).forEach((it, i) => { if (i) out.push(', '); out.push(itemLink(ctx, it)); });
  if (items.length > max) out.push(` +${items.length - max} more`);
  return el('span', { class: 'items' }, out);
}

function section(title, test, ...kids) {
  return el('section', { class: 'panel', 'data-test': test }, el('h2', {}, title), ...kids);
}

function table(head, rows, test) {
  return el('table', { class: 'table', 'data-test': test },
    el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

/** Cp/Cpk: individuals through the API's capability analysis; subgroup charts from their frozen limits. */
async function capability(ctx, chart, spec) {
  const { lsl, usl } = spec;
  if (!Number.isFinite(lsl) && !Number.isFinite(usl)) return { note: 'no specification limits' };
  const log = chart.transform === 'log';
  const t = (v) => (Number.isFinite(v) ? (log ? Math.log(v) : v) : undefined);
  if (chart.chart === 'imr') {
    const values = chart.points.map((p) => p.value).filter((v) => !log || v > 0).map(t);
    if (values.length < 2) return { note: 'too few points' };
    const params = {};
    if (Number.isFinite(lsl) && (!log || lsl > 0)) params.lsl = t(lsl);
    if (Number.isFinite(usl)) params.usl = t(usl);
    const r = await ctx.api('/v1/quality/spc/analyze', { method: 'POST', body: { chart: 'capability', params, data: { values } } });
    return { ...r, basis: `${values.length} charted individuals${log ? ', log scale' : ''} (POST /v1/quality/spc/analyze)` };
  }
  if ((chart.chart === 'xbar_r' || chart.chart === 'xbar_s') && chart.limits) {
    const n = spec.subgroup_size || 1;
    const { center, ucl } = chart.limits;
    const sigma = ((t(ucl) - t(center)) * Math.sqrt(n)) / (chart.policy?.nsigma || 3);
    const mu = t(center);
    const cpu = Number.isFinite(usl) ? (t(usl) - mu) / (3 * sigma) : null;
    const cpl = Number.isFinite(lsl) ? (mu - t(lsl)) / (3 * sigma) : null;
    const cp = cpu !== null && cpl !== null ? (t(usl) - t(lsl)) / (6 * sigma) : null;
    const cpk = [cpu, cpl].filter((v) => v !== null).reduce((a, b) => Math.min(a, b), Infinity);
    return { cp, cpk, cpu, cpl, mean: center, sigma_within: sigma, basis: `σ within from the frozen limits (subgroups of ${n})` };
  }
  return { note: `not computed for ${words(chart.chart)} charts` };
}

function capabilityView(cap) {
  if (cap.note) return el('p', { class: 'muted', 'data-test': 'capability' }, `Capability: ${cap.note}.`);
  // One-sided specifications have no Cp or Pp: leave them out rather than show a dash.
  const cells = [['Cp', cap.cp], ['Cpk', cap.cpk], ['Pp', cap.pp], ['Ppk', cap.ppk]].filter(([, v]) => v !== undefined && v !== null && Number.isFinite(v));
  if (!cells.length) return el('p', { class: 'muted', 'data-test': 'capability' }, 'Capability: not defined for these limits.');
  const judge = (v) => (v >= 1.33 ? 'ok' : v >= 1 ? '' : 'bad');
  return el('div', { class: 'capability', 'data-test': 'capability' },
    el('div', { class: 'kpis' }, cells.map(([k, v]) => el('div', { class: `kpi ${judge(v)}`, 'data-test': `cap-${k.toLowerCase()}` },
      el('div', { class: 'value' }, v.toFixed(2)), el('div', { class: 'label' }, k)))),
    el('p', { class: 'muted small' }, `σ within ${fmt(cap.sigma_within)}${cap.sigma_overall !== undefined ? `, σ overall ${fmt(cap.sigma_overall)}` : ''}; ${cap.basis}.`));
}

export async function render(view, ctx) {
  const state = {
    selected: ctx.params.get('characteristic'),
    focusNc: ctx.params.get('nc'),
    focusHold: ctx.params.get('hold'),
    window: 500,
    alertsAll: false,
    alertRows: ALERT_ROWS,
    holdsActive: true,
    holdsAll: false,
    ncOpen: true,
    releasing: new Map(), // hold id → reason typed, kept across live refreshes
    outcomes: new Map(), // hold id → what its release answered
    ncOutcome: null,
    chart: null,
  };
  const canRelease = ctx.can('write_quality');
  const canDispose = ctx.can('dispose_quality');
  let alive = true;

  const plant = await ctx.api('/v1/plant');
  const specs = new Map();
  const plans = (plant.inspection_plans || []).map((ip) => ({
    ...ip,
    characteristics: ip.characteristics.map((c) => { specs.set(c.id, c); return c; }),
  }));
  const materialName = new Map((plant.materials || []).map((m) => [m.id, m.name]));

  const listHost = el('nav', { class: 'q-list', 'data-test': 'characteristics', style: 'max-height:620px;overflow:auto;position:relative' });
  const chartHost = el('div', { class: 'q-chart' });
  const alertsHost = el('div');
  const holdsHost = el('div');
  const ncHost = el('div');
  view.style.display = 'grid';
  view.style.gap = '16px';
  view.replaceChildren(
    el('header', {}, el('h1', {}, 'Quality'),
      el('p', { class: 'muted', style: 'margin:0' }, 'Every characteristic of every mode under one enterprise SPC policy: charts, alerts, holds and nonconformances.')),
    el('div', { class: 'q-layout', style: 'display:grid;grid-template-columns:minmax(220px,280px) 1fr;gap:16px;align-items:start' },
      listHost, chartHost),
    alertsHost, holdsHost, ncHost,
  );

  // ----- characteristics ---------------------------------------------------------------------
  let alertCounts = new Map();
  function renderList() {
    listHost.replaceChildren(el('h2', {}, 'Characteristics'),
      ...plans.map((ip) => el('div', { class: 'q-plan' },
        el('div', { class: 'muted small' }, `${ip.material}${materialName.get(ip.material) ? ` · ${materialName.get(ip.material)}` : ''}`),
        el('ul', { class: 'plain' }, ip.characteristics.map((c) => {
          const a = ctx.link('characteristic', c.id, c.id);
          a.dataset.test = 'characteristic';
          a.dataset.id = c.id;
          if (c.id === state.selected) a.setAttribute('aria-current', 'page');
          const n = alertCounts.get(c.id);
          return el('li', { class: c.id === state.selected ? 'selected' : null },
            a, ' ', el('span', { class: 'muted small' }, words(c.chart)),
            n ? el('span', { class: 'badge warn', title: 'alerts among the latest', 'data-test': 'alert-count' }, n) : null);
        })))));
    const current = listHost.querySelector('li.selected');
    if (current && !listHost.dataset.scrolled) { listHost.scrollTop = Math.max(0, current.offsetTop - 120); listHost.dataset.scrolled = '1'; }
  }

  // ----- chart -------------------------------------------------------------------------------
  async function loadChart(live = false) {
    if (!state.selected) {
      chartHost.replaceChildren(section('Control chart', 'chart-panel', el('p', { class: 'muted' }, 'Choose a characteristic.')));
      return;
    }
    const id = state.selected;
    let chart;
    try {
      chart = await ctx.api(`/v1/quality/characteristics/${encodeURIComponent(id)}/chart`);
    } catch (e) {
      chartHost.replaceChildren(section(id, 'chart-panel', el('p', { class: 'error' }, e.message)));
      return;
    }
    if (!alive || id !== state.selected) return;
    // A live refresh redraws only a chart that changed, and never under a pinned tip (its links
    // are being reached for).
    const signature = `${id}|${chart.points.length}|${chart.points.at(-1)?.at}|${chart.violations.length}|${chart.status}`;
    if (live && signature === state.signature) return;
    if (live && chartHost.querySelector('svg.control-chart')?.isPinned?.()) return;
    state.signature = signature;
    state.chart = chart;
    const spec = specs.get(id) || {};
    let cap;
    try { cap = await capability(ctx, chart, spec); } catch (e) { cap = { note: e.message }; }
    drawChartPanel(chart, spec, cap);
  }

  function drawChartPanel(chart, spec, cap) {
    const total = chart.points.length;
    const from = state.window && total > state.window ? total - state.window : 0;
    const shown = { ...chart, points: chart.points.slice(from) };
    const shownViolations = shown.points.filter((p) => p.beyond_limits || p.rules.length || p.dispersion_out_of_control).length;
    const plot = el('div', { class: 'chart-host', 'data-test': 'chart-host' });
    const windowSel = el('select', {
      'data-test': 'chart-window',
      onchange: (ev) => { state.window = Number(ev.target.value); drawChartPanel(chart, spec, cap); },
    }, WINDOWS.map((w) => el('option', { value: w, selected: w === state.window || null }, w ? `last ${w} points` : 'all points')));
    const rules = (chart.policy?.rules || []).map((r) => `${r} (${chart.policy.severity?.[r] || 'minor'})`).join(', ');
    chartHost.replaceChildren(section(`${chart.characteristic} · ${spec.name || ''}`, 'chart-panel',
      el('div', { class: 'meta', 'data-test': 'chart-meta' },
        el('span', { class: 'badge' }, words(chart.chart)), ' ',
        el('span', { class: `badge ${chart.mode}` }, chart.mode), ' ',
        el('span', { class: 'badge', 'data-test': 'chart-status' }, words(chart.status)), ' ',
        chart.transform === 'log' ? el('span', { class: 'badge', 'data-test': 'log-scale' }, 'log scale (policy)') : null, ' ',
        el('span', { class: 'muted small' }, `${chart.policy?.rule_set || ''} rules ${rules}; ${chart.policy?.nsigma || 3}σ limits`)),
      total === 0 ? null : el('div', { class: 'row' }, windowSel,
        el('span', { class: 'muted small' }, ` ${shown.points.length} of ${total} points, ${shownViolations} marked (beyond a limit, a run rule or dispersion); ${chart.violations.length} rule violations in all`),
        chart.pending_phase1 ? el('span', { class: 'muted small' }, `; ${chart.pending_phase1} waiting for phase I`) : null),
      plot,
      total === 0 ? null : el('p', { class: 'legend small muted' },
        el('span', { style: 'color:#2e7d32' }, '— centre'), '  ', el('span', { style: 'color:#c0392b' }, '- - control limits'), '  ',
        el('span', { style: 'color:#e67e22' }, '-·- specification limits'), '  ',
        el('span', { style: 'color:#c0392b' }, '● beyond a limit'), '  ', el('span', { style: 'color:#e67e22' }, '● run rule'),
        '  (click a point to pin its details)'),
      capabilityView(cap)));
    drawControlChart(plot, shown, {
      height: total === 0 ? 120 : undefined,
      lsl: spec.lsl ?? undefined, usl: spec.usl ?? undefined, uom: spec.uom, log: chart.transform === 'log',
      renderTip: (p) => el('div', { 'data-test': 'tip' },
        el('div', {}, el('strong', {}, `${fmt(p.value)} ${spec.uom || ''}`), ` · point ${p.index} · phase ${p.phase}`),
        el('div', { class: 'muted' }, when(p.at)),
        p.beyond_limits || p.rules.length ? el('div', { class: 'error' },
          [p.beyond_limits ? 'beyond a control limit' : null, ...p.rules.map((r) => `rule ${r}`), p.dispersion_out_of_control ? 'dispersion' : null].filter(Boolean).join(', ')) : null,
        el('div', {}, itemLinks(ctx, p.items, 6))),
    });
  }

  // ----- alerts ------------------------------------------------------------------------------
  async function loadAlerts() {
    const q = state.alertsAll || !state.selected ? '' : `&characteristic=${encodeURIComponent(state.selected)}`;
    const page = await ctx.api(`/v1/quality/alerts?limit=${state.alertRows}${q}`);
    if (!alive) return;
    if (!q) {
      alertCounts = new Map();
      for (const a of page.items) alertCounts.set(a.characteristic, (alertCounts.get(a.characteristic) || 0) + 1);
      renderList();
    }
    const toggle = el('label', { class: 'small' }, el('input', {
      type: 'checkbox', 'data-test': 'alerts-all', checked: state.alertsAll || !state.selected || null,
      disabled: !state.selected || null,
      onchange: (ev) => { state.alertsAll = ev.target.checked; loadAlerts().catch(report); },
    }), ' all characteristics');
    const rows = page.items.map((a) => el('tr', { 'data-test': 'alert-row', 'data-id': a.id, class: `sev-${a.severity}` },
      el('td', {}, when(a.at)),
      el('td', {}, ctx.link('characteristic', a.characteristic)),
      el('td', {}, el('span', { class: `badge ${a.severity}` }, a.severity), a.good_side ? el('span', { class: 'muted small' }, ' good side') : null),
      el('td', {}, [a.beyond_limits ? 'beyond limit' : null, a.rules.length ? `rules ${a.rules.join(', ')}` : null, a.dispersion_out_of_control ? 'dispersion' : null].filter(Boolean).join('; ')),
      el('td', { class: 'num' }, fmt(a.value)),
      el('td', {}, itemLinks(ctx, a.items))));
    alertsHost.replaceChildren(section(`Alerts (${page.total})`, 'alerts',
      el('div', { class: 'row' }, toggle, el('span', { class: 'muted small' }, ` newest ${page.items.length} shown`)),
      rows.length ? table(['When', 'Characteristic', 'Severity', 'Signal', 'Value', 'Items'], rows, 'alerts-table') : el('p', { class: 'muted' }, 'No alerts.'),
      page.next ? el('button', { 'data-test': 'alerts-more', onclick: () => { state.alertRows += 50; loadAlerts().catch(report); } }, 'Show 50 older') : null));
  }

  // ----- holds -------------------------------------------------------------------------------
  async function release(hold, reason, button) {
    button.disabled = true;
    try {
      const after = await ctx.api(`/v1/quality/holds/${encodeURIComponent(hold.id)}/release`, { method: 'POST', body: { reason } });
      state.releasing.delete(hold.id);
      state.outcomes.set(hold.id, { ok: true, text: `Released by ${after.released_by || 'you'} at ${when(after.released_at)}: ${after.release_reason || reason}` });
      ctx.toast(`Hold ${hold.id} released`, 'ok');
    } catch (e) {
      state.outcomes.set(hold.id, { ok: false, text: `Not released: ${e.message}` });
      ctx.toast(e.message, 'error');
    }
    await loadHolds().catch(report);
  }

  function holdRow(h) {
    const outcome = state.outcomes.get(h.id);
    let action = null;
    if (h.active && canRelease) {
      if (state.releasing.has(h.id)) {
        const input = el('input', {
          type: 'text', placeholder: 'reason (required)', 'data-test': 'release-reason', value: state.releasing.get(h.id),
          oninput: (ev) => { state.releasing.set(h.id, ev.target.value); confirm.disabled = !ev.target.value.trim(); },
        });
        const confirm = el('button', {
          class: 'primary', 'data-test': 'release-confirm', disabled: !state.releasing.get(h.id).trim() || null,
          onclick: (ev) => release(h, input.value.trim(), ev.currentTarget),
        }, 'Release');
        action = el('div', { class: 'inline-form' }, input, ' ', confirm, ' ',
          el('button', { 'data-test': 'release-cancel', onclick: () => { state.releasing.delete(h.id); renderHolds(); } }, 'Cancel'));
      } else {
        action = el('button', { 'data-test': 'release-hold', onclick: () => { state.releasing.set(h.id, ''); renderHolds(); holdsHost.querySelector(`[data-id="${CSS.escape(h.id)}"] input`)?.focus(); } }, 'Release…');
      }
    }
    const status = h.active ? el('span', { class: 'badge warn' }, 'active')
      : el('span', { class: 'badge ok', title: h.release_reason || '' }, `released ${when(h.released_at)} by ${h.released_by || '?'}`);
    return el('tr', { 'data-test': 'hold-row', 'data-id': h.id, class: h.id === state.focusHold ? 'focus' : null, style: h.id === state.focusHold ? 'background:#fff8e1' : null },
      el('td', {}, h.id), el('td', {}, itemLink(ctx, { kind: h.item_kind, id: h.item_id })), el('td', {}, words(h.link)),
      el('td', { class: 'small' }, h.reason, h.alert_id ? el('div', { class: 'muted' }, h.alert_id) : null),
      el('td', {}, when(h.placed_at), el('div', { class: 'muted small' }, h.placed_by, h.proposal ? [' via ', ctx.link('proposal', h.proposal)] : null)),
      el('td', {}, status, h.release_reason ? el('div', { class: 'muted small' }, h.release_reason) : null,
        outcome ? el('div', { class: outcome.ok ? 'ok small' : 'error small', 'data-test': 'release-outcome' }, outcome.text) : null),
      el('td', {}, action));
  }

  let holds = { items: [], total: 0 };
  async function loadHolds() {
    const q = state.holdsActive ? '?active=true&limit=200' : '?limit=200';
    holds = await ctx.api(`/v1/quality/holds${q}`);
    // A hold named in the route is shown even when it falls outside the page.
    if (state.focusHold && !holds.items.some((h) => h.id === state.focusHold)) {
      try { holds.items.unshift(await ctx.api(`/v1/quality/holds/${encodeURIComponent(state.focusHold)}`)); } catch { /* not readable */ }
    }
    // Released holds answered in this session stay visible so their outcome reads in place.
    for (const id of state.outcomes.keys()) {
      if (!holds.items.some((h) => h.id === id)) {
        try { holds.items.unshift(await ctx.api(`/v1/quality/holds/${encodeURIComponent(id)}`)); } catch { /* gone */ }
      }
    }
    if (alive) renderHolds();
  }
  function renderHolds() {
    // The newest first; a hold named in the route or released here stays in view whatever the cut.
    const keep = (h) => h.id === state.focusHold || state.outcomes.has(h.id) || state.releasing.has(h.id);
    const shown = state.holdsAll ? holds.items : holds.items.filter((h, i) => i < HOLD_ROWS || keep(h));
    const toggle = el('label', { class: 'small' }, el('input', {
      type: 'checkbox', 'data-test': 'holds-active', checked: state.holdsActive || null,
      onchange: (ev) => { state.holdsActive = ev.target.checked; loadHolds().catch(report); },
    }), ' active only');
    holdsHost.replaceChildren(section(`Holds (${holds.total}${state.holdsActive ? ' active' : ''})`, 'holds',
      el('div', { class: 'row' }, toggle),
      holds.items.length ? table(['Hold', 'Item', 'Link', 'Reason', 'Placed', 'Status', ''], shown.map(holdRow), 'holds-table')
        : el('p', { class: 'muted' }, 'No holds.'),
      shown.length < holds.items.length ? el('button', { 'data-test': 'holds-more', onclick: () => { state.holdsAll = true; renderHolds(); } },
        `Show all ${holds.items.length}${holds.total > holds.items.length ? ` of ${holds.total}` : ''}`) : null));
  }

  // ----- nonconformances ---------------------------------------------------------------------
  let ncs = { items: [], total: 0 };
  let detail = null;
  async function loadNcs(live = false) {
    ncs = await ctx.api(`/v1/quality/nonconformances?limit=200${state.ncOpen ? '&open=true' : ''}`);
    // The single read ranks root causes (costly): a live refresh repeats it only when the NC moved.
    const listed = ncs.items.find((v) => v.id === state.focusNc);
    const stale = !live || !detail || detail.error || detail.id !== state.focusNc || (listed && listed.version !== detail.version);
    if (state.focusNc && stale) {
      try { detail = await ctx.api(`/v1/quality/nonconformances/${encodeURIComponent(state.focusNc)}`); } catch (e) { detail = { error: e.message }; }
    }
    if (alive) renderNcs();
  }

  async function transition(nc, command) {
    try {
      await ctx.api(`/v1/quality/nonconformances/${encodeURIComponent(nc.id)}/transitions`, { method: 'POST', body: command });
      state.ncOutcome = { ok: true, text: `${words(command.action)} recorded on ${nc.id}` };
      ctx.toast(state.ncOutcome.text, 'ok');
    } catch (e) {
      state.ncOutcome = { ok: false, text: e.message };
      ctx.toast(e.message, 'error');
    }
    await loadNcs().catch(report);
  }

  /** Only the commands `quality::nc` accepts from the NC's state (and its CAPA actions' statuses). */
  function transitions(v) {
    const nc = v.nonconformance;
    const out = [];
    const btn = (label, command, extra) => el('button', {
      'data-test': `nc-action-${command.action}`, 'data-action': command.action, ...extra,
      onclick: (ev) => { ev.currentTarget.disabled = true; transition(v, command); },
    }, label);
    if (nc.state === 'open') out.push(btn('Start investigation', { action: 'start_investigation' }, { class: 'primary' }));
    if (nc.state === 'investigating') {
      const sel = el('select', { 'data-test': 'nc-disposition' }, DISPOSITIONS.map((d) => el('option', { value: d }, words(d))));
      out.push(el('span', {}, sel, ' ', el('button', {
        class: 'primary', 'data-test': 'nc-action-disposition', 'data-action': 'disposition',
        onclick: (ev) => { ev.currentTarget.disabled = true; transition(v, { action: 'disposition', disposition: sel.value }); },
      }, 'Disposition')));
    }
    if (nc.state === 'dispositioned') out.push(btn('Start CAPA', { action: 'start_capa' }, { class: 'primary' }));
    if (nc.state === 'capa') {
      const nextId = `CA-${nc.capa.length + 1}`;
      const desc = el('input', { type: 'text', placeholder: 'corrective action', 'data-test': 'capa-description', size: 36 });
      out.push(el('span', {}, desc, ' ', el('button', {
        'data-test': 'nc-action-add_capa_action', 'data-action': 'add_capa_action',
        onclick: (ev) => {
          if (!desc.value.trim()) { desc.focus(); return; }
          ev.currentTarget.disabled = true;
          transition(v, { action: 'add_capa_action', id: nextId, description: desc.value.trim() });
        },
      }, `Add action ${nextId}`)));
      if (nc.capa.length && nc.capa.every((a) => a.status !== 'open')) out.push(btn('Verify', { action: 'verify' }, { class: 'primary' }));
    }
    if (nc.state === 'verified' && nc.capa.every((a) => a.status === 'verified')) out.push(btn('Close', { action: 'close' }, { class: 'primary' }));
    return out;
  }

  function capaRows(v) {
    const nc = v.nonconformance;
    return nc.capa.map((a) => {
      const acts = [];
      if (canDispose && nc.state === 'capa' && a.status === 'open') {
        acts.push(el('button', { 'data-test': 'nc-action-complete_capa_action', onclick: (ev) => { ev.currentTarget.disabled = true; transition(v, { action: 'complete_capa_action', id: a.id }); } }, 'Mark done'));
      }
      if (canDispose && (nc.state === 'capa' || nc.state === 'verified') && a.status === 'done') {
        acts.push(el('button', { 'data-test': 'nc-action-verify_capa_action', onclick: (ev) => { ev.currentTarget.disabled = true; transition(v, { action: 'verify_capa_action', id: a.id }); } }, 'Verify action'));
      }
      return el('tr', { 'data-test': 'capa-row' }, el('td', {}, a.id), el('td', {}, a.description), el('td', {}, a.status),
        el('td', { class: 'small muted' }, `${a.added_by} ${when(a.added_at)}`), el('td', {}, acts));
    });
  }

  function ncDetail(v) {
    if (v.error) return el('div', { class: 'panel error', 'data-test': 'nc-detail' }, v.error);
    const nc = v.nonconformance;
    const causes = v.suggested_causes || [];
    return el('div', { class: 'panel nc-detail', 'data-test': 'nc-detail', 'data-id': v.id, 'data-state': nc.state },
      el('h3', {}, `${v.id} `, el('span', { class: `badge ${ncBadge(nc.state)}`, 'data-test': 'nc-state' }, words(nc.state)),
        nc.disposition ? el('span', { class: 'badge' }, words(nc.disposition)) : null,
        el('button', { class: 'quiet', style: 'float:right;color:var(--muted)', title: 'close', 'data-test': 'nc-close-detail', onclick: () => { state.focusNc = null; detail = null; renderNcs(); } }, '×')),
      el('p', {}, nc.description),
      el('p', {}, 'Items: ', itemLinks(ctx, v.items, 20), v.characteristic ? [' · characteristic ', ctx.link('characteristic', v.characteristic)] : null),
      causes.length ? el('div', { 'data-test': 'nc-causes' }, el('h4', {}, 'Suggested root causes'),
        el('ol', {}, causes.map((c) => el('li', {}, el('strong', {}, c.name),
          c.association ? el('span', { class: 'muted small' }, ` (${c.association.method} ${fmt(c.association.effect)}, p ${fmt(c.association.p_value)}, q ${fmt(c.q_value)}, ${c.orders} orders)`) : null,
          el('div', { class: 'small' }, c.suggested_action))))) :
        nc.state !== 'closed' ? el('p', { class: 'muted small' }, 'No suggested root causes.') : null,
      nc.capa.length ? el('div', {}, el('h4', {}, 'CAPA actions'), table(['Action', 'What', 'Status', 'Added', ''], capaRows(v), 'capa-table')) : null,
      el('h4', {}, 'History'),
      el('ol', { class: 'small', 'data-test': 'nc-history' }, nc.history.map((r) => el('li', {},
        `${when(r.at)} ${words(r.action)} ${r.from !== r.to ? `${r.from} → ${r.to}` : ''} by ${r.by}${r.detail ? ` (${r.detail})` : ''}`))),
      canDispose && nc.state !== 'closed' ? el('div', { class: 'row', 'data-test': 'nc-transitions' }, transitions(v)) : null,
      state.ncOutcome ? el('p', { class: state.ncOutcome.ok ? 'ok' : 'error', 'data-test': 'nc-outcome' }, state.ncOutcome.text) : null);
  }

  function renderNcs() {
    const toggle = el('label', { class: 'small' }, el('input', {
      type: 'checkbox', 'data-test': 'ncs-open', checked: state.ncOpen || null,
      onchange: (ev) => { state.ncOpen = ev.target.checked; loadNcs().catch(report); },
    }), ' open only');
    const counts = new Map(NC_STATES.map((s) => [s, 0]));
    for (const v of ncs.items) counts.set(v.nonconformance.state, (counts.get(v.nonconformance.state) || 0) + 1);
    const rows = ncs.items.map((v) => {
      const open = el('button', { style: 'background:none;border:none;color:var(--accent);padding:0;cursor:pointer;font:inherit', 'data-test': 'nc-open', onclick: () => { state.focusNc = v.id; state.ncOutcome = null; loadNcs().catch(report); } }, v.id);
      return el('tr', { 'data-test': 'nc-row', 'data-id': v.id, 'data-state': v.nonconformance.state, class: v.id === state.focusNc ? 'focus' : null, style: v.id === state.focusNc ? 'background:#fff8e1' : null },
        el('td', {}, open), el('td', {}, el('span', { class: `badge ${ncBadge(v.nonconformance.state)}` }, words(v.nonconformance.state))),
        el('td', {}, v.characteristic ? ctx.link('characteristic', v.characteristic) : '—'),
        el('td', { class: 'small' }, v.nonconformance.description),
        el('td', {}, itemLinks(ctx, v.items, 3)),
        el('td', {}, when(v.nonconformance.history[0]?.at)));
    });
    ncHost.replaceChildren(section(`Nonconformances (${ncs.total})`, 'ncs',
      el('div', { class: 'row' }, toggle, el('span', { class: 'muted small' }, ' ',
        [...counts].filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(', '))),
      detail && state.focusNc ? ncDetail(detail) : null,
      rows.length ? table(['NC', 'State', 'Characteristic', 'Description', 'Items', 'Opened'], rows, 'ncs-table') : el('p', { class: 'muted' }, 'No nonconformances.')));
  }

  function report(e) { if (alive) ctx.toast(e.message, 'error'); }

  renderList();
  await Promise.all([loadChart(), loadAlerts(), loadHolds(), loadNcs()].map((p) => p.catch(report)));
  // A link to one hold or NC lands on it.
  const target = state.focusNc ? ncHost.querySelector('[data-test=nc-detail]')
    : state.focusHold ? holdsHost.querySelector(`[data-id="${CSS.escape(state.focusHold)}"]`) : null;
  if (target) target.scrollIntoView({ block: 'center' });

  // The live plant writes quality results every few seconds; refetch at most every 4 s, never
  // while a reason or a CAPA text is being typed (the re-render would drop the caret).
  let timer = null;
  let last = 0;
  const refresh = async () => {
    timer = null;
    if (!alive) return;
    const typing = view.contains(document.activeElement) && ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName);
    if (typing) { timer = setTimeout(refresh, 4000); return; }
    last = Date.now();
    await Promise.all([loadChart(true), loadAlerts(), loadHolds(), loadNcs(true)].map((p) => p.catch(() => {})));
  };
  ctx.live(({ topics }) => {
    if (!topics || !topics.includes('quality') || timer) return;
    timer = setTimeout(refresh, Math.max(0, 4000 - (Date.now() - last)));
  });
  return () => { alive = false; if (timer) clearTimeout(timer); };
}
