// The audit trail (#/audit): records filtered by actor, action and time, paged with `next`, and the hash-chain check that names the first bad record.

import { el, fill } from '../lib/dom.js';

const PAGE = 100;

// Action prefixes offered in the filter; the server matches the start of the action, so
// `proposal.` selects every proposal action. Actions seen on screen are added to these.
const ACTIONS = [
  'proposal.', 'proposal.create', 'proposal.approve', 'proposal.reject', 'proposal.expire',
  'proposal.apply', 'proposal.rollback', 'plan.', 'events.append', 'quality.', 'trace.',
  'principal.', 'token.', 'session.', 'plant.put', 'store.',
];

function wallTime(text) {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return String(text);
  // Audit times are wall-clock instants of the writes, shown in the reader's time zone.
  const pad = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// `datetime-local` holds local wall time without a zone; the API wants RFC 3339.
function toInstant(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function toLocalInput(instant) {
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return '';
  const pad = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function render(view, ctx) {
  const state = {
    actor: ctx.params.get('actor') || '',
    action: ctx.params.get('action') || '',
    from: ctx.params.get('from') || '',
    to: ctx.params.get('to') || '',
    afterSeq: ctx.params.get('after_seq') || '',
    // Newest first unless the reader asked for a place in the trail or the oldest first.
    oldest: ctx.params.get('order') === 'oldest' || !!ctx.params.get('after_seq'),
    items: [],
    next: null,
    loading: false,
    highlight: null,
  };
  let alive = true;
  const actors = new Set();
  const actions = new Set(ACTIONS);

  if (!ctx.can('read_audit')) {
    view.replaceChildren(el('h1', {}, 'Audit trail'),
      el('p', { class: 'muted', 'data-test': 'audit-forbidden' }, `Your role (${ctx.session && ctx.session.role}) does not read the audit trail.`));
    return undefined;
  }

  // ---- filters ----
  const actorList = el('datalist', { id: 'audit-actors' });
  const actionList = el('datalist', { id: 'audit-actions' });
  const actorIn = el('input', { type: 'text', list: 'audit-actors', placeholder: 'actor id', 'data-test': 'audit-actor', 'aria-label': 'actor', size: '16' });
  const actionIn = el('input', { type: 'text', list: 'audit-actions', placeholder: 'action (prefix)', 'data-test': 'audit-action', 'aria-label': 'action', size: '16' });
  const fromIn = el('input', { type: 'datetime-local', 'data-test': 'audit-from', 'aria-label': 'from' });
  const toIn = el('input', { type: 'datetime-local', 'data-test': 'audit-to', 'aria-label': 'to' });
  const orderIn = el('select', { 'data-test': 'audit-order', 'aria-label': 'order' },
    el('option', { value: 'newest' }, 'newest first'), el('option', { value: 'oldest' }, 'oldest first'));
  orderIn.value = state.oldest ? 'oldest' : 'newest';
  actorIn.value = state.actor;
  actionIn.value = state.action;
  fromIn.value = state.from ? toLocalInput(state.from) : '';
  toIn.value = state.to ? toLocalInput(state.to) : '';

  const apply = () => {
    state.actor = actorIn.value.trim();
    state.action = actionIn.value.trim();
    state.from = toInstant(fromIn.value);
    state.to = toInstant(toIn.value);
    state.oldest = orderIn.value === 'oldest';
    state.afterSeq = '';
    state.highlight = null;
    syncHash();
    load().catch(showError);
  };
  const clear = () => {
    actorIn.value = actionIn.value = fromIn.value = toIn.value = '';
    apply();
  };
  // Enter submits the form; picking a time or a listed value applies at once.
  for (const input of [actorIn, actionIn, fromIn, toIn, orderIn]) input.addEventListener('change', apply);

  const verifyBtn = el('button', { type: 'button', 'data-test': 'audit-verify', onclick: () => verify() }, 'Verify chain');
  const verifyOut = el('div', { class: 'notice', 'data-test': 'audit-verify-result', hidden: true });
  const body = el('tbody', { 'data-test': 'audit-rows' });
  const status = el('p', { class: 'muted', 'data-test': 'audit-status' });
  const moreBox = el('div', { class: 'more' });

  fill(view,
    el('div', { class: 'row' },
      el('h1', {}, 'Audit trail'),
      el('span', { class: 'spacer', style: 'flex:1' }),
      verifyBtn),
    verifyOut,
    el('form', { class: 'row panel', 'data-test': 'audit-filters', style: 'margin:12px 0', onsubmit: ev => { ev.preventDefault(); apply(); } },
      el('label', {}, 'Actor ', actorIn), actorList,
      el('label', {}, 'Action ', actionIn), actionList,
      el('label', {}, 'From ', fromIn),
      el('label', {}, 'To ', toIn),
      orderIn,
      el('button', { type: 'submit', 'data-test': 'audit-filter' }, 'Filter'),
      el('button', { type: 'button', 'data-test': 'audit-clear', onclick: clear }, 'Clear')),
    el('table', { class: 'audit-table', 'data-test': 'audit-table' },
      el('thead', {}, el('tr', {},
        el('th', { class: 'num' }, '#'), el('th', {}, 'Time (local)'), el('th', {}, 'Actor'),
        el('th', {}, 'Modified by'), el('th', {}, 'Action'), el('th', {}, 'Subject'),
        el('th', {}, 'Detail'), el('th', {}, 'Hash'))),
      body),
    status,
    moreBox);

  function showError(e) {
    if (alive) ctx.toast(e && e.message ? e.message : String(e), 'error');
  }

  function syncHash() {
    const q = new URLSearchParams();
    for (const [k, v] of [['actor', state.actor], ['action', state.action], ['from', state.from], ['to', state.to], ['after_seq', state.afterSeq], ['order', state.oldest && !state.afterSeq ? 'oldest' : '']]) {
      if (v) q.set(k, v);
    }
    const hash = '#/audit' + (q.toString() ? '?' + q : '');
    // replaceState keeps the view (no re-render) while the address stays shareable.
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  function firstPath(afterSeq) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (state.actor) q.set('actor', state.actor);
    if (state.action) q.set('action', state.action);
    if (state.from) q.set('from', state.from);
    if (state.to) q.set('to', state.to);
    if (!state.oldest) {
      q.set('sort', '-seq');
      return '/v1/audit?' + q;
    }
    const after = afterSeq != null ? afterSeq : state.afterSeq;
    if (after) q.set('after_seq', String(after));
    return '/v1/audit?' + q;
  }

  function subjectNode(subject) {
    const m = /^(proposal|order|lot|serial|unit|hold|nc):(.+)$/.exec(subject || '');
    if (m && typeof ctx.link === 'function') return ctx.link(m[1], m[2], subject);
    return el('span', { class: 'mono' }, subject);
  }

  function row(r) {
    actors.add(r.actor.id);
    actions.add(r.action);
    const detail = r.detail && typeof r.detail === 'object' ? r.detail : {};
    const modifiedBy = detail.modified_by || '';
    const detailText = JSON.stringify(r.detail, null, 2);
    const summary = Object.keys(detail).filter(k => k !== 'modified_by').slice(0, 4).join(', ');
    return el('tr', {
      'data-test': 'audit-row', 'data-seq': String(r.seq), 'data-action': r.action, 'data-actor': r.actor.id,
      // The shell has no rule for a marked row; the first bad record is tinted here.
      style: state.highlight === r.seq ? 'background:#fdecec' : null,
    },
      el('td', { class: 'num mono' }, String(r.seq)),
      el('td', { title: r.at, style: 'white-space:nowrap' }, wallTime(r.at)),
      el('td', { 'data-test': 'audit-actor-cell' }, el('span', { class: 'muted' }, `${r.actor.kind} `), r.actor.id),
      el('td', { class: 'mono', 'data-test': 'audit-modified-by' }, modifiedBy),
      el('td', { class: 'mono', 'data-test': 'audit-action-cell' }, r.action),
      el('td', {}, subjectNode(r.subject)),
      el('td', {}, detailText && detailText !== '{}' && detailText !== 'null'
        ? el('details', {}, el('summary', {}, summary || 'detail'), el('pre', {}, detailText))
        : el('span', { class: 'muted' }, '—')),
      el('td', { class: 'mono', title: `hash ${r.hash}\nprev ${r.prev_hash}` }, String(r.hash).slice(0, 10) + '…'));
  }

  function fillLists() {
    actorList.replaceChildren(...[...actors].sort().map(a => el('option', { value: a })));
    actionList.replaceChildren(...[...actions].sort().map(a => el('option', { value: a })));
  }

  function drawTail() {
    const filtered = state.actor || state.action || state.from || state.to;
    status.textContent = state.items.length
      ? `${state.items.length} record${state.items.length === 1 ? '' : 's'} shown${filtered ? ' (filtered)' : ''}${state.afterSeq ? ` after #${state.afterSeq}` : ''}, ${state.oldest ? 'oldest first' : 'newest first'}${state.next ? '; more follow' : ''}.`
      : filtered ? 'No record matches these filters.' : 'The audit trail is empty.';
    fill(moreBox, state.next
      ? el('button', { type: 'button', 'data-test': 'audit-more', onclick: () => more().catch(showError) }, `Next ${PAGE}`)
      : null);
    fillLists();
  }

  // Filters can be applied twice in a row (change, then submit): only the last answer shows.
  let loadToken = 0;
  async function load() {
    const token = ++loadToken;
    const page = await ctx.api(firstPath());
    if (!alive || token !== loadToken) return;
    state.items = page.items;
    state.next = page.next;
    body.replaceChildren(...page.items.map(row));
    drawTail();
  }

  async function more() {
    if (!state.next || state.loading) return;
    state.loading = true;
    const token = loadToken;
    try {
      const page = await ctx.api(state.next);
      if (!alive || token !== loadToken) return;
      state.items = state.items.concat(page.items);
      state.next = page.next;
      body.append(...page.items.map(row));
      drawTail();
    } finally {
      state.loading = false;
    }
  }

  // New records only ever come at the end of the trail: newest first, they go on top;
  // oldest first, they are appended once the reader has reached the end, instead of
  // reloading what they scrolled through.
  async function refresh() {
    if (state.loading) return;
    if (!state.items.length) return load();
    if (!state.oldest) return prependNewest();
    if (state.next) return; // the end is further on; "Next" reaches it
    state.loading = true;
    const token = loadToken;
    try {
      const last = state.items[state.items.length - 1].seq;
      const page = await ctx.api(firstPath(last));
      if (!alive || token !== loadToken) return;
      state.items = state.items.concat(page.items);
      state.next = page.next;
      body.append(...page.items.map(row));
      drawTail();
    } finally {
      state.loading = false;
    }
  }

  async function prependNewest() {
    state.loading = true;
    const token = loadToken;
    try {
      const top = state.items[0].seq;
      const page = await ctx.api(firstPath());
      if (!alive || token !== loadToken) return;
      const fresh = page.items.filter((r) => r.seq > top);
      if (!fresh.length) return;
      state.items = fresh.concat(state.items);
      body.prepend(...fresh.map(row));
      drawTail();
    } finally {
      state.loading = false;
    }
  }

  async function verify() {
    verifyBtn.disabled = true;
    verifyOut.hidden = false;
    verifyOut.className = 'notice';
    delete verifyOut.dataset.intact;
    verifyOut.replaceChildren('Verifying the hash chain…');
    const started = performance.now();
    try {
      const report = await ctx.api('/v1/audit/verify');
      if (!alive) return;
      const ms = Math.round(performance.now() - started);
      const bad = report.first_bad;
      verifyOut.dataset.intact = bad ? 'false' : 'true';
      verifyOut.dataset.records = String(report.records);
      if (!bad) {
        verifyOut.className = 'notice';
        verifyOut.replaceChildren(
          el('strong', {}, 'intact'),
          ` — ${report.records} records verified in ${ms} ms; head `,
          el('span', { class: 'mono', title: report.head_hash || '' }, report.head_hash ? report.head_hash.slice(0, 16) + '…' : '(empty)'));
      } else {
        verifyOut.className = 'notice error';
        verifyOut.dataset.badSeq = String(bad.seq);
        verifyOut.replaceChildren(
          el('strong', {}, 'broken'),
          ` at record #${bad.seq} (${String(bad.fault).replace(/_/g, ' ')}): ${bad.message} — ${report.records} records checked. `,
          el('button', {
            type: 'button', 'data-test': 'audit-show-bad',
            onclick: () => showRecord(bad.seq),
          }, `Show record #${bad.seq}`));
      }
    } catch (e) {
      verifyOut.className = 'notice error';
      verifyOut.replaceChildren(`Verification failed: ${e.message}`);
    } finally {
      verifyBtn.disabled = false;
    }
  }

  // The bad record and what follows it, without the filters that could hide it.
  function showRecord(seq) {
    actorIn.value = actionIn.value = fromIn.value = toIn.value = '';
    state.actor = state.action = state.from = state.to = '';
    state.oldest = true;
    orderIn.value = 'oldest';
    state.afterSeq = String(Math.max(0, seq - 1));
    state.highlight = seq;
    syncHash();
    load().then(() => {
      const tr = body.querySelector(`[data-seq="${seq}"]`);
      if (tr) tr.scrollIntoView({ block: 'center' });
    }).catch(showError);
  }

  let timer = null;
  const unsubscribe = ctx.live(({ topics }) => {
    if (topics && !topics.includes('audit')) return;
    if (timer) return;
    // The simulator writes in bursts; one refetch per burst.
    timer = setTimeout(() => {
      timer = null;
      if (alive) refresh().catch(showError);
    }, 500);
  });

  try {
    await load();
  } catch (e) {
    status.textContent = '';
    body.replaceChildren(el('tr', {}, el('td', { colspan: '8', class: 'error', 'data-test': 'audit-error' }, e.message)));
  }

  return () => {
    alive = false;
    clearTimeout(timer);
    if (typeof unsubscribe === 'function') unsubscribe();
  };
}
