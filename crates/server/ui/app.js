// The dashboard's shell: sign-in, navigation, the API client, live updates, and the
// context every page module is rendered with (see README.md in this folder).

import { el, fill } from './lib/dom.js';

const PAGES = [
  { name: 'overview', title: 'Overview', needs: 'read_plant' },
  { name: 'gantt', title: 'Gantt', needs: 'read_plant' },
  { name: 'scenarios', title: 'Scenarios', needs: 'read_schedule' },
  { name: 'approvals', title: 'Approvals', needs: 'read_proposals' },
  { name: 'quality', title: 'Quality', needs: 'read_quality' },
  { name: 'genealogy', title: 'Genealogy', needs: 'read_trace' },
  // The trail spans every area and is verified whole: site-wide scopes only (as the API says).
  { name: 'audit', title: 'Audit', needs: 'read_audit', siteWide: true },
];
// Views reached only through links: an order's page.
const VIEWS = { order: { name: 'order', needs: 'read_plant' } };

const LINKS = {
  order: (id) => `#/order/${enc(id)}`,
  lot: (id) => `#/genealogy?id=${enc(id)}`,
  serial: (id) => `#/genealogy?id=${enc(id)}`,
  unit: (id) => `#/gantt?unit=${enc(id)}`,
  proposal: (id) => `#/approvals?id=${enc(id)}`,
  characteristic: (id) => `#/quality?characteristic=${enc(id)}`,
  hold: (id) => `#/quality?hold=${enc(id)}`,
  nc: (id) => `#/quality?nc=${enc(id)}`,
};

const enc = encodeURIComponent;
const view = document.getElementById('view');
let session = null;
let liveSource = null;
const liveListeners = new Set();
let leaving = [];
let routeToken = 0;

/** Why an API call failed: the problem's detail, with its status and body. */
class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, { method = 'GET', body, text = false, headers: extra = {} } = {}) {
  const headers = { Accept: text ? '*/*' : 'application/json', ...extra };
  if (method !== 'GET' && method !== 'HEAD') {
    if (session) headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && session) {
    // The session ended (signed out elsewhere, expired, token revoked).
    signedOut('Your session is over; sign in again.');
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return null;
  return text ? response.text() : response.json();
}

function can(permission) {
  return !!session && session.permissions.includes(permission);
}

/** Whether the signed-in principal may open a page: its role and, for some, its scope. */
function offered(page) {
  return can(page.needs) && !(page.siteWide && String(session.scope).startsWith('area:'));
}

function link(kind, id, label) {
  const to = LINKS[kind];
  if (!to || id === undefined || id === null) return document.createTextNode(label ?? String(id ?? '—'));
  return el('a', { href: to(id), 'data-test': `link-${kind}`, 'data-id': id }, label ?? String(id));
}

function toast(text, kind = 'ok') {
  const node = el('div', { class: `toast ${kind}`, 'data-test': `toast-${kind}` }, text);
  document.getElementById('toasts').append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 8000 : 4000);
}

function live(fn) {
  liveListeners.add(fn);
  leaving.push(() => liveListeners.delete(fn));
}

function startLive() {
  stopLive();
  const indicator = document.getElementById('live');
  liveSource = new EventSource('/ui/events');
  liveSource.addEventListener('hello', () => { indicator.textContent = 'live'; indicator.classList.add('on'); });
  liveSource.addEventListener('change', (event) => {
    const change = JSON.parse(event.data);
    window.__mixplane.changes += 1;
    for (const fn of [...liveListeners]) {
      try { fn(change); } catch (error) { console.error(error); }
    }
  });
  liveSource.onerror = () => { indicator.textContent = 'reconnecting'; indicator.classList.remove('on'); };
}

function stopLive() {
  if (liveSource) liveSource.close();
  liveSource = null;
  const indicator = document.getElementById('live');
  indicator.textContent = 'offline';
  indicator.classList.remove('on');
}

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const [name = 'overview', ...rest] = path.split('/').filter(Boolean);
  const params = new URLSearchParams(query);
  if (rest.length) params.set('id', decodeURIComponent(rest.join('/')));
  return { name, params };
}

async function route() {
  if (!session) return;
  const token = ++routeToken;
  for (const fn of leaving) { try { fn(); } catch (error) { console.error(error); } }
  leaving = [];
  const { name, params } = parseHash();
  const page = PAGES.find((p) => p.name === name) || VIEWS[name];
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  if (!page) {
    fill(view, el('div', { class: 'notice error' }, `There is no page “${name}”. `, el('a', { href: '#/overview' }, 'Overview')));
    return;
  }
  if (!offered(page)) {
    const why = can(page.needs) ? `your scope (${session.scope}) reaches one area, and ${page.title} spans every area` : `your role (${session.role}) may not open ${page.title || page.name}`;
    fill(view, el('div', { class: 'notice error', 'data-test': 'not-permitted' }, `Not for you: ${why}.`));
    return;
  }
  fill(view, el('p', { class: 'muted' }, 'Loading…'));
  const started = performance.now();
  try {
    const module = await import(`./pages/${page.name}.js`);
    if (token !== routeToken) return;
    const root = el('section', { class: `page page-${page.name}`, 'data-test': `page-${page.name}` });
    fill(view, root);
    const cleanup = await module.render(root, context(params));
    if (typeof cleanup === 'function') leaving.push(cleanup);
    if (token === routeToken) {
      window.__mixplane.rendered[page.name] = { at: performance.now(), took: performance.now() - started };
      root.dataset.rendered = 'true';
    }
  } catch (error) {
    if (token !== routeToken) return;
    // The prefix lets the browser tests fail on a page that failed (run.mjs).
    console.error(`mixplane page failed: ${page.name}: ${error.message}`, error);
    fill(view, el('div', { class: 'notice error', 'data-test': 'page-error' }, `This page failed: ${error.message}`));
  }
}

function context(params) {
  return {
    api, can, link, live, toast, params, session,
    navigate: (hash) => { location.hash = hash; },
  };
}

function showNav() {
  document.getElementById('top').hidden = false;
  fill(document.getElementById('nav'), PAGES.filter(offered).map((p) =>
    el('a', { href: `#/${p.name}`, 'data-page': p.name, 'data-test': `nav-${p.name}` }, p.title)));
  const scope = session.scope === '*' ? '' : ` · ${session.scope}`;
  fill(document.getElementById('who'), `${session.principal} · ${session.role.replace('_', ' ')}${scope}`);
}

function signedOut(message) {
  session = null;
  stopLive();
  for (const fn of leaving) { try { fn(); } catch { /* leaving anyway */ } }
  leaving = [];
  document.getElementById('top').hidden = true;
  showSignIn(message);
}

function showSignIn(message) {
  const input = el('input', { type: 'password', name: 'token', autocomplete: 'off', placeholder: 'mxp_…', 'data-test': 'token', required: true });
  const error = el('p', { class: 'error', 'data-test': 'sign-in-error' }, message || '');
  const form = el('form', { class: 'panel signin', 'data-test': 'sign-in' },
    el('h1', {}, 'Sign in to mixplane'),
    el('p', { class: 'muted' }, 'Paste your API token (`mixplane token create`, or the admin token `mixplane demo` printed). The browser keeps a session cookie, not the token.'),
    input, error,
    el('button', { class: 'primary', type: 'submit', 'data-test': 'sign-in-submit' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const response = await fetch('/ui/session', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ token: input.value.trim() }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new ApiError(response.status, body);
      signedIn(body);
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  fill(view, form);
  input.focus();
}

function signedIn(info) {
  session = info;
  showNav();
  startLive();
  if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/overview';
  else route();
}

async function boot() {
  window.__mixplane = { rendered: {}, changes: 0 };
  document.getElementById('sign-out').addEventListener('click', async () => {
    try { await api('/ui/session', { method: 'DELETE' }); } catch { /* signed out either way */ }
    signedOut('Signed out.');
  });
  window.addEventListener('hashchange', route);
  try {
    const response = await fetch('/ui/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (response.ok) { signedIn(await response.json()); return; }
  } catch { /* the server is not answering: show the sign-in with why */ }
  showSignIn();
}

boot();
