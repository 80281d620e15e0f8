// DOM builders and formatting for the explorer. Chain data only ever
// becomes text nodes (`textContent`) or attribute values, never markup:
// `h` and `s` append strings with `document.createTextNode`.

import { ADDRESS_RE } from './rpc.js';

// ---------------------------------------------------------------- DOM ----

export function add(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

// h('a', {href: '#/x', class: 'c', field: 'height'}, 'text', child…)
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'field') el.dataset.field = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  return add(el, kids);
}

const SVG = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  return add(el, kids);
}

export const route = (...parts) => '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
export const link = (parts, text, props = {}) => h('a', { href: route(...parts), ...props }, text);
export const short = (x) => {
  const t = String(x ?? '');
  return t.length > 20 ? `${t.slice(0, 10)}…${t.slice(-6)}` : t;
};
export const blockLink = (hgt) => link(['block', hgt], fmtInt(hgt));
export const txLink = (hash, full) => link(['tx', hash], full ? String(hash) : short(hash), { class: 'mono', title: String(hash) });
export const addrLink = (a, full) =>
  typeof a === 'string' && ADDRESS_RE.test(a)
    ? link(['account', a], full ? a : short(a), { class: 'mono', title: a })
    : h('span', { class: 'mono' }, a ?? '–');
export const contractLink = (a, full) =>
  typeof a === 'string' && ADDRESS_RE.test(a)
    ? link(['contract', a], full ? a : short(a), { class: 'mono', title: a })
    : h('span', { class: 'mono' }, a ?? '–');

export function fmtInt(x) {
  if (x === null || x === undefined) return '–';
  const t = String(x);
  return /^\d+$/.test(t) ? BigInt(t).toLocaleString('en-US') : t;
}
export const fmtAmount = fmtInt;
export function fmtTime(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n) || n <= 0) return '–';
  return new Date(n).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}
export function fmtAge(ms) {
  const d = Math.max(0, Date.now() - Number(ms)) / 1000;
  if (!Number.isFinite(d)) return '';
  if (d < 60) return `${Math.floor(d)} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}
export function big(x) {
  const t = String(x ?? '0');
  return /^\d+$/.test(t) ? BigInt(t) : 0n;
}
// part / total as a number in [0, 1] (exact enough for display).
export function ratio(part, total) {
  const t = big(total);
  return t === 0n ? 0 : Number((big(part) * 1000000n) / t) / 1000000;
}
export const pct = (r) => `${(r * 100).toFixed(2)} %`;

export function kv(rows) {
  return h(
    'table',
    { class: 'kv' },
    h('tbody', null, rows.filter(Boolean).map(([k, v, field]) => h('tr', null, h('th', null, k), h('td', { field }, v ?? '–')))),
  );
}

export function table(head, rows, props = {}) {
  return h(
    'table',
    props,
    h('thead', null, h('tr', null, head.map((c) => (c.startsWith('#') ? h('th', { class: 'num' }, c.slice(1)) : h('th', null, c))))),
    h('tbody', null, rows),
  );
}
export const num = (v, props = {}) => h('td', { class: 'num', ...props }, v);
export const panel = (title, ...kids) => h('section', { class: 'panel' }, title ? h('h2', null, title) : null, kids);
export const card = (label, value, field) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', field }, value));
export const badge = (text, kind) => h('span', { class: `badge ${kind || ''}` }, text);
export const empty = (text) => h('p', { class: 'muted' }, text);

// A value from the chain shown as text; addresses become links.
export function valueNode(v) {
  if (typeof v === 'string' && ADDRESS_RE.test(v)) return addrLink(v, true);
  if (v !== null && typeof v === 'object') return h('code', null, JSON.stringify(v));
  return String(v ?? '');
}

export function eventsTable(events, withTx) {
  if (!events || events.length === 0) return empty('No events.');
  const rows = events.map((x) => {
    const e = x.event || x;
    const attrs = Array.isArray(e.attributes) ? e.attributes : [];
    return h(
      'tr',
      { class: 'event' },
      withTx ? h('td', null, blockLink(x.height)) : null,
      withTx ? h('td', null, x.tx_hash ? txLink(x.tx_hash) : '–') : null,
      h('td', null, h('code', { field: 'event-kind' }, e.kind)),
      h(
        'td',
        null,
        h(
          'ul',
          { class: 'attrs' },
          attrs.map((a) => h('li', { class: 'attr' }, h('span', { class: 'k' }, Array.isArray(a) ? a[0] : ''), h('span', { class: 'v' }, valueNode(Array.isArray(a) ? a[1] : a)))),
        ),
      ),
    );
  });
  return table(withTx ? ['Block', 'Transaction', 'Kind', 'Attributes'] : ['Kind', 'Attributes'], rows, { class: 'events' });
}

// Hex of bytes as text when it is printable UTF-8 (e.g. a contract's JSON message).
export function hexText(hex) {
  if (typeof hex !== 'string' || !/^([0-9a-f]{2})*$/i.test(hex) || hex.length === 0) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  try {
    const t = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /^[\P{C}\n\t]*$/u.test(t) ? t : null;
  } catch {
    return null;
  }
}

export class NotFound extends Error {
  constructor(message, hint) {
    super(message);
    this.hint = hint;
  }
}
