// The approvals inbox (#/approvals): proposals waiting for the signed-in principal first, one proposal's evidence, diff, gate and four-eyes, and the decisions its role may take.

import { el, fill, when } from '../lib/dom.js';
import { diffTable, entityRef, namedEntities, shortTime } from '../lib/diff.js';

const STATUSES = ['proposed', 'approved', 'rejected', 'expired', 'applied', 'rolled_back'];
const KINDS = ['schedule_change', 'resource_transfer', 'quality_hold', 'nc_disposition', 'work_instruction_change'];
const SINKS = ['mes-sim', 'file', 'mes'];
const PAGE = 50;

// The shell's stylesheet has no "selected row" rule: the open proposal's row is marked here.
const SELECTED = 'inset 3px 0 0 var(--accent)';

const words = s => String(s).replace(/_/g, ' ');
const principalOf = session => {
  const p = session && session.principal;
  return typeof p === 'object' && p ? (p.id || p.name) : p;
};
const approvalsGiven = p => new Set((p.decisions || []).filter(d => d.decision === 'approve').map(d => d.principal)).size;

function statusBadge(status, test = 'proposal-status') {
  return el('span', { class: `badge ${status}`, 'data-test': test, 'data-status': status }, words(status));
}

// Key-value facts as table rows (`kvs(kv(...), ...)`): the shell styles tables, not forms.
function kv(label, ...value) {
  return el('tr', {}, el('th', { scope: 'row', style: 'width:9em' }, label), el('td', {}, ...value));
}

function kvs(...rows) {
  return el('table', { class: 'kv' }, el('tbody', {}, rows));
}

function fmtNumber(v) {
  if (typeof v !== 'number') return String(v);
  return Math.abs(v) >= 100 || Number.isInteger(v) ? v.toLocaleString('en', { maximumFractionDigits: 1 }) : v.toFixed(3).replace(/\.?0+$/, '');
}

export async function render(view, ctx) {
  const session = ctx.session || {};
  const me = principalOf(session);
  const state = {
    status: ctx.params.get('status') || '',
    kind: ctx.params.get('kind') || '',
    area: ctx.params.get('area') || '',
    selected: ctx.params.get('id') || null,
    items: [],
    total: 0,
    next: null,
    waiting: [],
    comments: new Map(), // what the reviewer typed, per proposal, kept across live refreshes
    busy: false,
  };
  let alive = true;

  // Whether the signed-in principal can still decide `p`: the server enforces it, the inbox
  // only uses it to sort and to show (or not) the buttons.
  const mayDecide = p =>
    p.status === 'proposed' &&
    ctx.can('decide_proposals') &&
    session.kind !== 'agent' &&
    (p.gate.approver_roles || []).includes(session.role) &&
    p.proposed_by !== me &&
    !(p.decisions || []).some(d => d.principal === me && d.decision === 'approve');

  // ---- layout ----
  const statusSel = el('select', { 'data-test': 'filter-status', 'aria-label': 'status' },
    el('option', { value: '' }, 'any status'),
    STATUSES.map(s => el('option', { value: s }, words(s))));
  const kindSel = el('select', { 'data-test': 'filter-kind', 'aria-label': 'kind' },
    el('option', { value: '' }, 'any kind'),
    KINDS.map(k => el('option', { value: k }, words(k))));
  const areaIn = el('input', { type: 'text', placeholder: 'area', 'data-test': 'filter-area', 'aria-label': 'area', size: '10' });
  statusSel.value = state.status;
  kindSel.value = state.kind;
  areaIn.value = state.area;
  const onFilter = () => {
    state.status = statusSel.value;
    state.kind = kindSel.value;
    state.area = areaIn.value.trim();
    syncHash();
    Promise.all([loadWaiting(), loadList()]).then(markSelected).catch(showError);
  };
  statusSel.addEventListener('change', onFilter);
  kindSel.addEventListener('change', onFilter);
  areaIn.addEventListener('change', onFilter);

  const waitingBox = el('section', { class: 'panel', 'data-test': 'waiting' });
  const listBox = el('section', { class: 'panel', 'data-test': 'proposal-list' });
  const detailBox = el('section', { class: 'panel proposal-detail', 'data-test': 'proposal-detail' });
  // The shell's split: the open proposal is the main column, the inbox the side column.
  fill(view,
    el('div', { class: 'row' },
      el('h1', {}, 'Approvals'),
      el('div', { class: 'row filters' }, statusSel, kindSel, areaIn)),
    el('div', { class: 'split approvals' },
      el('div', {}, detailBox),
      el('div', { class: 'side', 'data-test': 'inbox' }, waitingBox, el('div', { style: 'height:12px' }), listBox)));

  function syncHash() {
    const q = new URLSearchParams();
    for (const k of ['status', 'kind', 'area']) if (state[k]) q.set(k, state[k]);
    if (state.selected) q.set('id', state.selected);
    const hash = '#/approvals' + (q.toString() ? '?' + q : '');
    // replaceState, not location.hash: the view keeps its state instead of being re-rendered.
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  function showError(e) {
    if (!alive) return;
    ctx.toast(e && e.message ? e.message : String(e), 'error');
  }

  function query(extra) {
    const q = new URLSearchParams(extra);
    if (state.kind) q.set('kind', state.kind);
    if (state.area) q.set('area', state.area);
    return q;
  }

  // ---- the list ----
  function row(p) {
    const given = approvalsGiven(p);
    const open = ev => {
      if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      select(p.id);
    };
    const on = p.id === state.selected;
    return el('tr', {
      class: on ? 'selected' : null, 'aria-selected': on ? 'true' : 'false',
      'data-test': 'proposal-row', 'data-id': p.id, 'data-status': p.status,
      style: `cursor:pointer${on ? ';box-shadow:' + SELECTED : ''}`, onclick: open,
    },
      el('td', {},
        el('div', { class: 'row' }, statusBadge(p.status, 'row-status'),
          el('span', { class: 'small muted' }, words(p.kind)),
          p.gate.approvals > 0 ? el('span', { class: 'small muted', title: 'approvals given / needed' }, `${given}/${p.gate.approvals} approvals`) : null),
        // A real link, so that it opens in a new tab too; a plain click is the row's.
        el('div', {}, el('a', { href: `#/approvals?id=${encodeURIComponent(p.id)}` }, p.title)),
        el('div', { class: 'small muted' }, `${p.id} · by ${p.proposed_by} · ${shortTime(p.proposed_at)} · ${(p.areas && p.areas.length ? p.areas : [p.area]).join(', ')}`)));
  }

  // What a row shows, to skip redrawing (and losing the reader's place) when nothing changed.
  const signature = items => items.map(p => `${p.id}:${p.status}:${(p.decisions || []).length}`).join(',');
  const drawn = { waiting: null, list: null, detail: null };

  const rowsTable = items => el('table', { class: 'proposals' }, el('tbody', {}, items.map(row)));

  async function loadWaiting() {
    if (!ctx.can('decide_proposals')) {
      waitingBox.hidden = true;
      state.waiting = [];
      return;
    }
    // Every waiting proposal (not one page): the inbox must not hide one behind paging.
    const all = [];
    let path = '/v1/proposals?' + query({ status: 'proposed', limit: '1000', sort: 'expires_at' });
    for (let i = 0; path && i < 10; i++) {
      const page = await ctx.api(path);
      all.push(...page.items);
      path = page.next;
    }
    state.waiting = all.filter(mayDecide);
    waitingBox.hidden = false;
    const key = signature(state.waiting);
    if (key === drawn.waiting) return;
    drawn.waiting = key;
    waitingBox.replaceChildren(
      el('h2', {}, 'Waiting for your decision ', el('span', { class: 'count', 'data-test': 'waiting-count' }, String(state.waiting.length))),
      state.waiting.length
        ? rowsTable(state.waiting)
        : el('p', { class: 'muted', 'data-test': 'waiting-empty' }, 'Nothing waits for you.'));
  }

  // `more`: the next page; `keep`: the pages already shown, fetched again (a live refresh
  // must not fold the list back to its first page).
  async function loadList(more, keep) {
    const limit = keep ? Math.min(1000, Math.max(PAGE, state.items.length)) : PAGE;
    const q = query({ limit: String(limit) });
    if (state.status) q.set('status', state.status);
    const page = await ctx.api(more && state.next ? state.next : '/v1/proposals?' + q);
    state.items = more ? state.items.concat(page.items) : page.items;
    state.total = page.total;
    state.next = page.next;
    drawList();
  }

  function drawList() {
    const key = `${state.total} ${state.next} ${signature(state.items)}`;
    if (key === drawn.list) return;
    drawn.list = key;
    const moreBtn = state.next
      ? el('button', { type: 'button', 'data-test': 'proposals-more', onclick: () => loadList(true).catch(showError) }, 'More')
      : null;
    listBox.replaceChildren(
      el('h2', {}, state.status ? `${words(state.status)} proposals ` : 'All proposals ',
        el('span', { class: 'count', 'data-test': 'proposals-total' }, String(state.total))),
      state.items.length
        ? rowsTable(state.items)
        : el('p', { class: 'muted', 'data-test': 'proposals-empty' }, 'No proposals match.'),
      moreBtn);
  }

  function markSelected() {
    for (const r of view.querySelectorAll('[data-test="proposal-row"]')) {
      const on = r.dataset.id === state.selected;
      r.classList.toggle('selected', on);
      r.setAttribute('aria-selected', on ? 'true' : 'false');
      r.style.boxShadow = on ? SELECTED : '';
    }
  }

  function select(id) {
    state.selected = id;
    syncHash();
    markSelected();
    loadDetail().catch(showError);
  }

  // ---- one proposal ----
  async function loadDetail() {
    const id = state.selected;
    if (!id) {
      detailBox.replaceChildren(el('p', { class: 'muted', 'data-test': 'detail-empty' }, 'Select a proposal to review its evidence, diff and gate.'));
      return;
    }
    let p;
    try {
      p = await ctx.api(`/v1/proposals/${encodeURIComponent(id)}`);
    } catch (e) {
      if (id !== state.selected) return;
      detailBox.replaceChildren(el('p', { class: 'error', 'data-test': 'detail-error' }, `Proposal ${id}: ${e.message}`));
      return;
    }
    const plan = await planOf(p);
    if (!alive || id !== state.selected) return;
    // Unchanged: keep what the reader opened (all reasons, all rows, the sink's answer).
    const key = JSON.stringify([p, plan ? 1 : 0]);
    if (key === drawn.detail) return;
    drawn.detail = key;
    drawDetail(p, plan);
  }

  // A proposal's candidate plan never changes once stored, so it is fetched once, and a
  // proposal known to carry none is not asked again on every live refresh.
  const plans = new Map();
  async function planOf(p) {
    if (p.kind !== 'schedule_change') return null;
    if (plans.has(p.id)) return plans.get(p.id);
    let plan = null;
    try {
      plan = await ctx.api(`/v1/proposals/${encodeURIComponent(p.id)}/plan`);
    } catch (e) {
      // A schedule change submitted as a bare diff (a due-date move) carries no plan.
      if (e.status !== 404) return { error: e.message };
    }
    plans.set(p.id, plan);
    return plan;
  }

  function drawDetail(p, plan) {
    const areas = p.areas && p.areas.length ? p.areas : [p.area];
    const named = namedEntities(p.diff);
    const touches = [];
    for (const kind of ['order', 'lot', 'serial', 'unit']) {
      const ids = [...named[kind]];
      if (!ids.length) continue;
      const shown = ids.slice(0, 12);
      touches.push(el('span', { class: 'touch', 'data-test': `touches-${kind}` },
        `${kind}s: `, shown.map((id, i) => [i ? ', ' : '', entityRef(ctx, kind, id)]),
        ids.length > shown.length ? ` and ${ids.length - shown.length} more` : ''));
    }
    detailBox.replaceChildren(...[
      el('div', { class: 'detail-head' },
        el('h2', { 'data-test': 'proposal-title' }, p.title),
        el('div', { class: 'row' }, statusBadge(p.status),
          el('span', { class: 'mono', 'data-test': 'proposal-id' }, p.id),
          el('span', { class: 'muted' }, `${words(p.kind)} · ${words(p.autonomy)}`))),
      kvs(
        kv('Proposed by', el('span', { 'data-test': 'proposed-by' }, p.proposed_by), ` (${p.proposed_by_kind})`),
        kv('Proposed', when(p.proposed_at)),
        kv('Expires', when(p.expires_at)),
        kv('Site / areas', `${p.site} / ${areas.join(', ')}`, p.checks && p.checks.site_wide ? ' (site-wide)' : ''),
        touches.length ? kv('Touches', el('span', { class: 'touches' }, touches.map((t, i) => [i ? ' · ' : '', t]))) : null),
      gateSection(p),
      actionsSection(p),
      evidenceSection(p),
      el('h3', {}, 'What it changes'),
      diffTable(ctx, p.diff),
      plan ? planSection(plan) : null,
      checksSection(p),
      outcomesSection(p),
    ].filter(Boolean));
  }

  function gateSection(p) {
    const given = approvalsGiven(p);
    const needed = p.gate.approvals;
    const box = el('section', { class: 'gate', 'data-test': 'four-eyes' });
    box.append(el('h3', {}, needed === 0 ? 'Gate: applies by itself' : needed >= 2 ? 'Gate: four eyes' : 'Gate: one approval'));
    if (needed > 0) {
      box.append(kvs(
        kv('Approvals', el('span', { 'data-test': 'approvals-count', 'data-given': String(given), 'data-needed': String(needed) }, `${given} of ${needed}`)),
        kv('Who decides', (p.gate.approver_roles || []).map(words).join(', ') || '—')),
        el('p', { class: 'muted', 'data-test': 'four-eyes-rule' },
          `Four eyes: ${p.proposed_by} proposed it and cannot approve it; `,
          needed >= 2 ? `${needed} different approvers other than the proposer.` : 'an approver other than the proposer decides.'));
    }
    if (p.gate.reasons && p.gate.reasons.length) box.append(reasonsNode(p.gate.reasons, p.status === 'proposed'));
    const decisions = p.decisions || [];
    if (decisions.length) {
      box.append(el('h3', {}, 'Decisions'),
        el('ul', { class: 'decisions', 'data-test': 'decisions' }, decisions.map(d =>
          el('li', { 'data-test': 'decision', 'data-principal': d.principal, 'data-decision': d.decision },
            el('strong', {}, d.decision === 'approve' ? 'approved' : 'rejected'),
            ` by ${d.principal} (${words(d.role)}) at ${when(d.at)} `,
            d.comment ? el('q', { class: 'comment', 'data-test': 'decision-comment-text' }, d.comment) : null))));
    }
    return box;
  }

  // The policy states a reason once per area the proposal touches; the reviewer reads each
  // reason once, with the areas it holds in.
  function reasonsNode(reasons, waiting) {
    const grouped = new Map();
    for (const r of reasons) {
      const m = /^area ([^:]+): (.*)$/.exec(r);
      const key = m ? m[2] : r;
      if (!grouped.has(key)) grouped.set(key, []);
      if (m) grouped.get(key).push(m[1]);
    }
    const item = ([text, areas]) => el('li', { 'data-test': 'gate-reason' },
      text.split(/`([^`]*)`/).map((part, i) => (i % 2 ? el('code', {}, part) : part)),
      areas.length ? el('span', { class: 'muted' }, ` — ${areas.join(', ')}`) : null);
    const all = [...grouped];
    const list = el('ul', { 'data-test': 'gate-reasons' }, all.slice(0, 8).map(item));
    const wrap = el('div', {}, el('h3', {}, waiting ? 'Why it waits' : 'Why it needed approval'), list);
    if (all.length > 8) {
      const more = el('button', {
        type: 'button', 'data-test': 'gate-reasons-all',
        onclick: () => { all.slice(8).forEach(r => list.append(item(r))); more.remove(); },
      }, `${all.length - 8} more reasons`);
      wrap.append(more);
    }
    return wrap;
  }

  function actionsSection(p) {
    const box = el('section', { class: 'actions', 'data-test': 'proposal-actions' });
    const canDecide = ctx.can('decide_proposals');
    const canApply = ctx.can('apply_proposals');
    if (p.status === 'proposed' && !canDecide) {
      box.append(el('p', { class: 'note muted', 'data-test': 'read-only' },
        `Your role (${words(session.role)}) reads proposals; ${(p.gate.approver_roles || []).map(words).join(', ')} decide this one.`));
    }
    if (p.status === 'proposed' && canDecide) {
      if (p.proposed_by === me) {
        box.append(el('p', { class: 'note', 'data-test': 'own-proposal' }, 'You proposed this: another approver has to decide it (four eyes).'));
      } else if (!(p.gate.approver_roles || []).includes(session.role)) {
        box.append(el('p', { class: 'note', 'data-test': 'not-approver' },
          `The policy lets ${(p.gate.approver_roles || []).map(words).join(', ')} decide this; your role is ${words(session.role)}.`));
      } else if ((p.decisions || []).some(d => d.principal === me && d.decision === 'approve')) {
        box.append(el('p', { class: 'note', 'data-test': 'already-approved' }, 'You approved this; it waits for another approver.'));
      } else {
        const comment = el('textarea', {
          rows: '2', placeholder: 'Comment (recorded with your decision)', 'data-test': 'decision-comment',
          'aria-label': 'comment',
          oninput: () => state.comments.set(p.id, comment.value),
        });
        comment.value = state.comments.get(p.id) || '';
        const decide = verb => () => act(p, verb, () => ({ comment: comment.value.trim() || undefined }));
        box.append(el('h3', {}, 'Your decision'), comment,
          el('div', { class: 'row' },
            el('button', { type: 'button', class: 'primary', 'data-test': 'approve', onclick: decide('approve') }, 'Approve'),
            el('button', { type: 'button', class: 'danger', 'data-test': 'reject', onclick: decide('reject') }, 'Reject')));
      }
    }
    if (p.status === 'approved' && canApply) {
      const sink = el('select', { 'data-test': 'apply-sink', 'aria-label': 'sink' },
        el('option', { value: '' }, 'default sink'), SINKS.map(s => el('option', { value: s }, s)));
      box.append(el('div', { class: 'row' },
        el('button', {
          type: 'button', class: 'primary', 'data-test': 'apply',
          onclick: () => act(p, 'apply', () => (sink.value ? { sink: sink.value } : {})),
        }, 'Apply'), sink));
    }
    if (p.status === 'applied' && canApply) {
      // Two steps instead of confirm(): a roll back sends the inverse diff to the MES.
      const btn = el('button', { type: 'button', class: 'danger', 'data-test': 'rollback' }, 'Roll back');
      btn.addEventListener('click', () => {
        if (btn.dataset.armed) return act(p, 'rollback', () => undefined);
        btn.dataset.armed = '1';
        btn.textContent = 'Confirm roll back';
        btn.setAttribute('data-test', 'rollback-confirm');
      });
      box.append(el('div', { class: 'row' }, btn,
        el('span', { class: 'muted' }, ` sends the inverse of the ${p.diff.length} change(s) through ${p.applied ? p.applied.sink : 'the sink'}`)));
    }
    return box.childNodes.length ? box : null;
  }

  async function act(p, verb, body) {
    if (state.busy) return;
    state.busy = true;
    for (const b of detailBox.querySelectorAll('.actions button')) b.disabled = true;
    try {
      const payload = body();
      const updated = await ctx.api(`/v1/proposals/${encodeURIComponent(p.id)}/${verb}`, {
        method: 'POST', ...(payload === undefined ? {} : { body: payload }),
      });
      state.comments.delete(p.id);
      const done = { approve: 'approved', reject: 'rejected', apply: 'applied', rollback: 'rolled back' }[verb];
      ctx.toast(`${p.id} ${done}: now ${words(updated.status)}`, 'ok');
      if (alive && state.selected === p.id) {
        const plan = await planOf(updated);
        if (alive && state.selected === p.id) {
          drawn.detail = JSON.stringify([updated, plan ? 1 : 0]);
          drawDetail(updated, plan);
        }
      }
      await Promise.all([loadWaiting(), loadList()]);
      markSelected();
    } catch (e) {
      showError(e);
      for (const b of detailBox.querySelectorAll('.actions button')) b.disabled = false;
    } finally {
      state.busy = false;
    }
  }

  function evidenceSection(p) {
    const ev = p.evidence;
    const box = el('section', { class: 'evidence', 'data-test': 'evidence' }, el('h3', {}, 'Evidence'));
    box.append(kvs(
      kv('Computed by', el('span', { class: 'mono', 'data-test': 'evidence-engine' }, `${ev.engine}/${ev.engine_version}`)),
      kv('Input', el('span', { class: 'mono', title: ev.input_sha256 }, `sha256 ${String(ev.input_sha256).slice(0, 16)}…`)),
      kv('Trigger', triggerNode(ev.trigger))));
    const names = [...new Set([...Object.keys(ev.kpis_before || {}), ...Object.keys(ev.kpis_after || {})])];
    if (names.length) {
      const src = p.checks && p.checks.kpis;
      box.append(el('table', { class: 'evidence-kpis', 'data-test': 'evidence-kpis' },
        el('caption', { class: 'small muted', style: 'text-align:left' }, src === 'recomputed' ? 'KPIs, recomputed by the server' : 'KPIs, as the proposer claims them'),
        el('thead', {}, el('tr', {}, el('th', {}, 'KPI'), el('th', { class: 'num' }, 'Before'), el('th', { class: 'num' }, 'After'), el('th', { class: 'num' }, 'Change'))),
        el('tbody', {}, names.map(n => {
          const b = (ev.kpis_before || {})[n];
          const a = (ev.kpis_after || {})[n];
          const d = typeof a === 'number' && typeof b === 'number' ? a - b : null;
          return el('tr', {}, el('td', {}, words(n)), el('td', { class: 'num' }, b == null ? '—' : fmtNumber(b)),
            el('td', { class: 'num' }, a == null ? '—' : fmtNumber(a)),
            el('td', { class: 'num' }, d == null || d === 0 ? '' : (d > 0 ? '+' : '') + fmtNumber(d)));
        }))));
    }
    return box;
  }

  function itemLink(text) {
    const m = /^(lot|serial|order|unit):(.+)$/.exec(text);
    return m ? entityRef(ctx, m[1], m[2]) : el('span', { class: 'mono' }, text);
  }

  function triggerNode(t) {
    if (!t) return '—';
    if (t.type === 'event') return el('span', {}, 'event ', el('span', { class: 'mono' }, t.event_id));
    if (t.type === 'principal') return el('span', {}, `asked by ${t.principal}`);
    if (t.type === 'quality_alert') {
      const f = t.finding || {};
      const charLink = typeof ctx.link === 'function' ? ctx.link('characteristic', f.characteristic, f.characteristic) : f.characteristic;
      return el('div', { 'data-test': 'trigger-alert' },
        el('div', {}, `quality alert ${f.alert} (${f.severity}) on `, charLink,
          `: ${f.rule_set} rule${(f.rules || []).length === 1 ? '' : 's'} ${(f.rules || []).join(', ')}`,
          f.beyond_limits ? ', beyond the limits' : '', f.dispersion_out_of_control ? ', dispersion out of control' : ''),
        el('div', { class: 'muted' }, `point ${f.point} = ${fmtNumber(f.value)} at ${shortTime(f.at)}; event `, el('span', { class: 'mono' }, t.event_id)),
        (f.holds || []).length ? el('ul', { class: 'holds' }, f.holds.map(h =>
          el('li', {}, itemLink(h.item), ` (${h.link})`,
            h.path && h.path.length > 1 ? el('span', { class: 'muted' }, ' via ', h.path.map((x, i) => [i ? ' → ' : '', itemLink(x)])) : null))) : null);
    }
    return el('code', {}, JSON.stringify(t));
  }

  function planSection(plan) {
    const box = el('section', { class: 'plan', 'data-test': 'candidate-plan' }, el('h3', {}, 'Candidate plan'));
    if (plan.error) {
      box.append(el('p', { class: 'error' }, plan.error));
      return box;
    }
    const ops = plan.schedule && Array.isArray(plan.schedule.assignments) ? plan.schedule.assignments.length : null;
    box.append(kvs(
      kv('Starts from', plan.basis == null ? 'no plan in force' : `plan version ${plan.basis}`),
      kv('Computed by', el('span', { class: 'mono' }, plan.engine), ` from ${shortTime(plan.horizon_start)}`),
      ops != null ? kv('Operations', String(ops)) : null,
      plan.optimality ? kv('Optimality', plan.optimality.gap_percent === 0
        ? 'proved optimal'
        : `at most ${fmtNumber(plan.optimality.gap_percent)} % above the best possible`) : null));
    const kpis = plan.kpis && typeof plan.kpis === 'object'
      ? Object.entries(plan.kpis).filter(([, v]) => typeof v === 'number') : [];
    if (kpis.length) {
      box.append(el('div', { class: 'kpis', 'data-test': 'plan-kpis' }, kpis.map(([k, v]) =>
        el('div', { class: 'kpi' }, el('div', { class: 'value' }, fmtNumber(v)), el('div', { class: 'label' }, words(k))))));
    }
    if ((plan.alternatives || []).length) {
      const alts = [...plan.alternatives].sort((a, b) => a.rank - b.rank);
      const names = [...new Set(alts.flatMap(a => Object.keys(a.kpis || {})))].slice(0, 6);
      box.append(el('table', { 'data-test': 'alternatives' },
        el('caption', { class: 'small muted', style: 'text-align:left' }, 'Alternatives the proposer ranked'),
        el('thead', {}, el('tr', {}, el('th', { class: 'num' }, 'Rank'), el('th', {}, 'Scenario'), names.map(n => el('th', { class: 'num' }, words(n))))),
        el('tbody', {}, alts.map(a => el('tr', { title: a.description || '' },
          el('td', { class: 'num' }, String(a.rank)), el('td', {}, words(a.scenario)),
          names.map(n => el('td', { class: 'num' }, a.kpis && a.kpis[n] != null ? fmtNumber(a.kpis[n]) : '—')))))));
    }
    return box;
  }

  function checksSection(p) {
    const c = p.checks || {};
    const items = [];
    if ((c.units || []).length) items.push(el('li', {}, 'units affected: ', c.units.map((u, i) => [i ? ', ' : '', entityRef(ctx, 'unit', u)])));
    if (c.site_wide) items.push(el('li', {}, 'a change acts outside every area (site-wide)'));
    for (const k of c.claims_corrected || []) {
      items.push(el('li', {}, `corrected ${k.field}${k.change != null ? ` of change ${k.change + 1}` : ''}: claimed ${JSON.stringify(k.claimed)}, computed ${JSON.stringify(k.computed)}`));
    }
    if ((c.unchecked_before || []).length) items.push(el('li', {}, `the store could not confirm "before" of change(s) ${c.unchecked_before.map(i => i + 1).join(', ')}`));
    if ((c.unassessed || []).length) items.push(el('li', {}, `mixplane cannot assess change(s) ${c.unassessed.map(i => i + 1).join(', ')}: they make it wait for approval`));
    if (!items.length) return null;
    return el('section', { class: 'checks', 'data-test': 'checks' }, el('h3', {}, 'Server checks'), el('ul', {}, items));
  }

  function outcomesSection(p) {
    const parts = [];
    for (const [label, o] of [['Applied', p.applied], ['Rolled back', p.rolled_back]]) {
      if (!o) continue;
      const answer = JSON.stringify(o.answer, null, 2);
      parts.push(el('div', { class: 'outcome', 'data-test': `outcome-${label === 'Applied' ? 'applied' : 'rolled-back'}` },
        kvs(kv(label, `by ${o.by} at ${when(o.at)} through ${o.sink}`)),
        el('details', {}, el('summary', {}, 'the sink\'s answer'), el('pre', {}, answer))));
    }
    return parts.length ? el('section', { class: 'outcomes' }, el('h3', {}, 'Outcome'), parts) : null;
  }

  // ---- live ----
  let timer = null;
  const refresh = () => {
    if (timer) return;
    // Coalesce bursts (an agent submitting several proposals) into one refetch.
    timer = setTimeout(async () => {
      timer = null;
      if (!alive || state.busy) return;
      const typing = document.activeElement && document.activeElement.matches && document.activeElement.matches('[data-test="decision-comment"]');
      try {
        await Promise.all([loadWaiting(), loadList(false, true)]);
        markSelected();
        // Re-render the open proposal unless the reviewer is typing a comment into it.
        if (!typing) await loadDetail();
      } catch (e) {
        showError(e);
      }
    }, 400);
  };
  const unsubscribe = ctx.live(({ topics }) => {
    if (!topics || topics.includes('proposals')) refresh();
  });

  detailBox.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  try {
    await Promise.all([loadWaiting(), loadList()]);
  } catch (e) {
    listBox.replaceChildren(el('p', { class: 'error', 'data-test': 'list-error' }, e.message));
  }
  // Open the first proposal waiting for this principal when the link names none (for one who
  // decides nothing, the newest that waits for anyone).
  let first = state.waiting[0] || state.items.find(p => p.status === 'proposed');
  if (!first && !state.selected && !ctx.can('decide_proposals')) {
    first = (await ctx.api('/v1/proposals?' + query({ status: 'proposed', limit: '1' })).catch(() => ({ items: [] }))).items[0];
  }
  if (!state.selected && first) {
    state.selected = first.id;
    syncHash();
  }
  markSelected();
  // A link to one proposal shows its row too, wherever the inbox lists it.
  const selectedRow = view.querySelector(`[data-test="proposal-row"][data-id="${CSS.escape(state.selected || '')}"]`);
  const side = view.querySelector('[data-test="inbox"]');
  if (selectedRow && side) {
    // Scroll the inbox column only, not the page.
    const below = selectedRow.getBoundingClientRect().bottom - side.getBoundingClientRect().bottom;
    if (below > 0) side.scrollTop += below + side.clientHeight / 3;
  }
  await loadDetail().catch(showError);

  return () => {
    alive = false;
    clearTimeout(timer);
    if (typeof unsubscribe === 'function') unsubscribe();
  };
}

