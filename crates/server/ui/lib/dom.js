// Small DOM and formatting helpers shared by the shell and every page.

/** An element: `el('td', {class: 'num', 'data-test': 'x'}, 'text', child, ...)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An SVG element: `svg('line', {x1: 0, …}, text?)`; null and undefined attributes are left out. */
export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Replaces an element's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A table from column specs `{head, cell(row) → node|text, class}` and rows. */
export function table(columns, rows, attrs = {}) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { class: c.class }, c.head)))),
    el('tbody', {}, rows.map((row) => el('tr', c0(row, attrs), columns.map((c) => el('td', { class: c.class }, c.cell(row)))))));
}

function c0(row, attrs) {
  return attrs.rowTest ? { 'data-test': attrs.rowTest(row) } : {};
}

/** A badge whose class is its (lower-cased) text unless given. */
export function badge(text, cls) {
  return el('span', { class: `badge ${cls ?? String(text).toLowerCase()}` }, text);
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZone: 'UTC',
});

/** An RFC 3339 instant as people read it (UTC, as the plant's data is). */
export function when(instant) {
  if (!instant) return '—';
  const d = new Date(instant);
  return Number.isNaN(d.getTime()) ? String(instant) : `${dateTime.format(d)} UTC`;
}

/** A number with at most `digits` fraction digits. */
export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return Number(value).toLocaleString('en-GB', { maximumFractionDigits: digits });
}

/** A fraction 0..1 or a percent as `42 %`. */
export function pct(value, isFraction = true) {
  if (value === null || value === undefined) return '—';
  return `${num(isFraction ? value * 100 : value, 0)} %`;
}

/** Minutes as `3 h 20 min` or `2 d 4 h`. */
export function minutes(m) {
  if (m === null || m === undefined) return '—';
  const sign = m < 0 ? '−' : '';
  let rest = Math.round(Math.abs(m));
  const d = Math.floor(rest / 1440); rest -= d * 1440;
  const h = Math.floor(rest / 60); const min = rest - h * 60;
  if (d) return `${sign}${d} d ${h} h`;
  if (h) return `${sign}${h} h ${min} min`;
  return `${sign}${min} min`;
}

/** Downloads `text` as a file named `name`. */
export function download(name, text, type = 'text/plain') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
