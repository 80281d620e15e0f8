// The Agora block explorer: a plain ES module served by the node from its own
// binary. No framework, no build step, no third-party code.
//
// Every string that comes from the chain (labels, monikers, proposal titles,
// event attributes, …) is hostile: the page is built with DOM APIs and
// `textContent` only, never `innerHTML`, and links are built from our own
// routes (`#/…`), never from chain data (except a validator's website, shown
// as a link only when it parses as an http(s) URL).

const RPC_URL = '/';
const RPC_TIMEOUT_MS = 15000;
const HOME_BLOCKS = 15; // latest blocks on the home page
const HOME_TXS = 20; // latest transactions on the home page
const HOME_TX_BLOCKS = 60; // how far back the home page looks for transactions
const BATCH = 20; // calls per JSON-RPC batch
const DAO_SCAN_BLOCKS = 5000; // how far back DAOs are looked for (dao_created events)
const MAX_DAOS = 10;
const MAX_MODULES = 4;
const PROPOSALS = 20;
const ADDRESS_RE = /^agora1[02-9ac-hj-np-z]{6,90}$/;
const HASH_RE = /^(0x)?[0-9a-fA-F]{64}$/;

// ---------------------------------------------------------------- RPC ----

class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const NOT_FOUND = 1012;
const NO_VALIDATOR = 1020;
const INVALID_PARAMS = -32602;
const METHOD_NOT_FOUND = -32601;

let nextId = 1;

async function post(body) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), RPC_TIMEOUT_MS);
  try {
    const r = await fetch(RPC_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: ctl.signal,
      cache: 'no-store',
    });
    const text = await r.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new RpcError(-32603, `HTTP ${r.status}: not a JSON-RPC answer`);
    }
  } catch (e) {
    if (e instanceof RpcError) throw e;
    throw new RpcError(-32603, e.name === 'AbortError' ? 'the node did not answer in time' : 'cannot reach the node');
  } finally {
    clearTimeout(timer);
  }
}

function unwrap(v) {
  if (v && v.error) return new RpcError(Number(v.error.code), String(v.error.message));
  return v ? v.result : new RpcError(-32603, 'no answer');
}

async function rpc(method, params = []) {
  const r = unwrap(await post({ jsonrpc: '2.0', id: nextId++, method, params }));
  if (r instanceof RpcError) throw r;
  return r;
}

// Several calls, BATCH per HTTP request (JSON-RPC batches); each entry of the
// answer is a result or an RpcError. Falls back to single calls if the node
// refuses batches.
async function batch(calls) {
  const out = [];
  for (let i = 0; i < calls.length; i += BATCH) {
    const part = calls.slice(i, i + BATCH);
    const base = nextId;
    nextId += part.length;
    let v;
    try {
      v = await post(part.map(([method, params], j) => ({ jsonrpc: '2.0', id: base + j, method, params })));
    } catch {
      v = null;
    }
    if (Array.isArray(v)) {
      const byId = new Map(v.map((x) => [x && x.id, x]));
      for (let j = 0; j < part.length; j++) out.push(unwrap(byId.get(base + j)));
    } else {
      for (const [method, params] of part) out.push(await rpc(method, params).catch((e) => e));
    }
  }
  return out;
}

// Null when the node says "not found" (or the input is not valid for it).
async function maybe(method, params, codes = [NOT_FOUND, INVALID_PARAMS]) {
  try {
    return await rpc(method, params);
  } catch (e) {
    if (e instanceof RpcError && codes.includes(e.code)) return null;
    throw e;
  }
}

// ---------------------------------------------------------------- DOM ----

function add(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

// h('a', {href: '#/x', class: 'c', field: 'height'}, 'text', child…)
function h(tag, props, ...kids) {
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
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  return add(el, kids);
}

const route = (...parts) => '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
const link = (parts, text, props = {}) => h('a', { href: route(...parts), ...props }, text);
const short = (x) => {
  const t = String(x ?? '');
  return t.length > 20 ? `${t.slice(0, 10)}…${t.slice(-6)}` : t;
};
const blockLink = (hgt) => link(['block', hgt], fmtInt(hgt));
const txLink = (hash, full) => link(['tx', hash], full ? String(hash) : short(hash), { class: 'mono', title: String(hash) });
const addrLink = (a, full) =>
  typeof a === 'string' && ADDRESS_RE.test(a)
    ? link(['account', a], full ? a : short(a), { class: 'mono', title: a })
    : h('span', { class: 'mono' }, a ?? '–');
const contractLink = (a, full) =>
  typeof a === 'string' && ADDRESS_RE.test(a)
    ? link(['contract', a], full ? a : short(a), { class: 'mono', title: a })
    : h('span', { class: 'mono' }, a ?? '–');

function fmtInt(x) {
  if (x === null || x === undefined) return '–';
  const t = String(x);
  return /^\d+$/.test(t) ? BigInt(t).toLocaleString('en-US') : t;
}
const fmtAmount = fmtInt;
function fmtTime(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n) || n <= 0) return '–';
  return new Date(n).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}
function fmtAge(ms) {
  const d = Math.max(0, Date.now() - Number(ms)) / 1000;
  if (!Number.isFinite(d)) return '';
  if (d < 60) return `${Math.floor(d)} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}
function big(x) {
  const t = String(x ?? '0');
  return /^\d+$/.test(t) ? BigInt(t) : 0n;
}
// part / total as a number in [0, 1] (exact enough for display).
function ratio(part, total) {
  const t = big(total);
  return t === 0n ? 0 : Number((big(part) * 1000000n) / t) / 1000000;
}
const pct = (r) => `${(r * 100).toFixed(2)} %`;

function kv(rows) {
  return h(
    'table',
    { class: 'kv' },
    h('tbody', null, rows.filter(Boolean).map(([k, v, field]) => h('tr', null, h('th', null, k), h('td', { field }, v ?? '–')))),
  );
}

function table(head, rows, props = {}) {
  return h(
    'table',
    props,
    h('thead', null, h('tr', null, head.map((c) => (c.startsWith('#') ? h('th', { class: 'num' }, c.slice(1)) : h('th', null, c))))),
    h('tbody', null, rows),
  );
}
const num = (v, props = {}) => h('td', { class: 'num', ...props }, v);
const panel = (title, ...kids) => h('section', { class: 'panel' }, title ? h('h2', null, title) : null, kids);
const card = (label, value, field) => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', field }, value));
const badge = (text, kind) => h('span', { class: `badge ${kind || ''}` }, text);
const empty = (text) => h('p', { class: 'muted' }, text);

// A value from the chain shown as text; addresses become links.
function valueNode(v) {
  if (typeof v === 'string' && ADDRESS_RE.test(v)) return addrLink(v, true);
  if (v !== null && typeof v === 'object') return h('code', null, JSON.stringify(v));
  return String(v ?? '');
}

function eventsTable(events, withTx) {
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
function hexText(hex) {
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

// ------------------------------------------------------------ caches ----

let validatorCache = { at: 0, list: null };
async function validators() {
  if (validatorCache.list && Date.now() - validatorCache.at < 30000) return validatorCache.list;
  const v = await rpc('agora_validators', []);
  validatorCache = { at: Date.now(), list: v };
  return v;
}
function byConsensusKey(vals) {
  const m = new Map();
  for (const v of vals?.validators || []) m.set(v.consensus_key, v);
  return m;
}
function proposerNode(key, keys) {
  const v = keys.get(key);
  return v ? link(['validator', v.operator], v.metadata?.moniker || short(v.operator)) : h('span', { class: 'mono', title: key }, short(key));
}

// ------------------------------------------------------- transactions ----

function payloadSummary(p) {
  if (!p || typeof p !== 'object') return ['', null];
  switch (p.type) {
    case 'transfer':
      return [addrLink(p.to), fmtAmount(p.amount)];
    case 'execute':
      return [contractLink(p.contract), p.funds && p.funds !== '0' ? fmtAmount(p.funds) : null];
    case 'instantiate':
    case 'instantiate_with_admin':
      return [h('span', null, 'label ', h('code', null, p.label)), p.funds && p.funds !== '0' ? fmtAmount(p.funds) : null];
    case 'migrate':
    case 'update_admin':
      return [contractLink(p.contract), null];
    case 'delegate':
    case 'undelegate':
      return [link(['validator', p.validator], short(p.validator), { class: 'mono' }), fmtAmount(p.amount)];
    case 'redelegate':
      return [h('span', null, short(p.src_validator), ' → ', short(p.dst_validator)), fmtAmount(p.amount)];
    case 'create_validator':
      return [h('span', null, p.metadata?.moniker ?? ''), fmtAmount(p.self_stake)];
    default:
      return ['', null];
  }
}

function txRow(t, height, fresh) {
  const body = t.tx?.body || {};
  const [target, amount] = payloadSummary(body.payload);
  return h(
    'tr',
    { class: fresh ? 'fresh' : null, 'data-tx': t.hash },
    h('td', null, txLink(t.hash)),
    h('td', null, blockLink(height)),
    h('td', null, badge(body.payload?.type ?? '?')),
    h('td', null, target),
    num(amount ?? ''),
  );
}

// ----------------------------------------------------------- live feed ----

const live = { ws: null, retry: 0, home: null, lastHeight: 0, queue: Promise.resolve() };

function setLive(on, text) {
  const el = document.getElementById('live');
  el.className = `live ${on ? 'on' : 'off'}`;
  el.textContent = text;
}

function connectLive() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    setLive(false, 'live updates unavailable');
    return;
  }
  live.ws = ws;
  ws.onopen = () => {
    live.retry = 0;
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agora_subscribeNewBlocks', params: [] }));
  };
  ws.onmessage = (ev) => {
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (m.id === 1) setLive(!m.error, m.error ? 'live updates refused' : 'live');
    else if (m.method === 'agora_newBlock' && m.params && m.params.result) onNewBlock(m.params.result);
  };
  ws.onclose = () => {
    setLive(false, 'reconnecting…');
    const delay = Math.min(30000, 1000 * 2 ** live.retry++);
    setTimeout(connectLive, delay);
  };
}

function onNewBlock(b) {
  const height = Number(b.height);
  if (!Number.isSafeInteger(height)) return;
  const lh = document.getElementById('chain-height');
  if (lh) lh.textContent = `height ${fmtInt(height)}`;
  // One block at a time, in order, whatever the network does.
  live.queue = live.queue.then(() => showNewBlock(height)).catch(() => {});
}

async function showNewBlock(height) {
  const home = live.home;
  if (!home || height <= home.top) return;
  // Blocks missed since the last one shown (a slow or reconnected feed) are
  // fetched too, at most a page of them.
  const from = Math.max(home.top + 1, height - HOME_BLOCKS + 1);
  const heights = [];
  for (let x = from; x <= height; x++) heights.push(x);
  const [blocks, vals] = await Promise.all([batch(heights.map((x) => ['agora_getBlock', [x, true]])), validators().catch(() => null)]);
  const keys = byConsensusKey(vals);
  for (const blk of blocks) {
    if (blk instanceof RpcError || live.home !== home) continue;
    const ht = Number(blk.header.height);
    if (ht <= home.top) continue;
    home.top = ht;
    home.blocks.prepend(blockRow(blk, keys, true));
    // Prepended in block order: the block's last transaction ends on top.
    const txs = blk.txs || [];
    for (const t of txs) home.txs.prepend(txRow(t, ht, true));
    if (txs.length && home.noTxs) home.noTxs.remove();
  }
  while (home.blocks.children.length > HOME_BLOCKS) home.blocks.lastElementChild.remove();
  while (home.txs.children.length > HOME_TXS) home.txs.lastElementChild.remove();
  home.height.textContent = fmtInt(home.top);
  home.height.dataset.height = String(home.top);
}

function blockRow(b, keys, fresh) {
  const hd = b.header || {};
  return h(
    'tr',
    { class: fresh ? 'fresh' : null, 'data-height': hd.height },
    h('td', null, blockLink(hd.height)),
    h('td', null, link(['block', hd.height], short(b.hash), { class: 'mono', title: b.hash })),
    h('td', null, proposerNode(hd.proposer, keys)),
    num(fmtInt(b.num_txs)),
    h('td', { class: 'muted', title: fmtTime(hd.time_ms) }, fmtAge(hd.time_ms)),
  );
}

// --------------------------------------------------------------- pages ----

class NotFound extends Error {
  constructor(message, hint) {
    super(message);
    this.hint = hint;
  }
}

async function homePage(view) {
  const [st, vals] = await Promise.all([rpc('agora_status', []), validators().catch(() => null)]);
  const tip = Number(st.latest_height);
  const keys = byConsensusKey(vals);
  const heights = [];
  for (let x = tip; x >= 1 && heights.length < HOME_TX_BLOCKS; x--) heights.push(x);
  // The latest HOME_BLOCKS with their transactions; older ones only while
  // they are needed to fill the transaction list (hashes only).
  const recent = await batch(heights.slice(0, HOME_BLOCKS).map((x) => ['agora_getBlock', [x, true]]));
  const blocks = recent.filter((b) => !(b instanceof RpcError));
  const txs = [];
  for (const b of blocks) for (const t of (b.txs || []).slice().reverse()) if (txs.length < HOME_TXS) txs.push([t, b.header.height]);
  if (txs.length < HOME_TXS && heights.length > HOME_BLOCKS) {
    const older = await batch(heights.slice(HOME_BLOCKS).map((x) => ['agora_getBlock', [x, true]]));
    for (const b of older) {
      if (b instanceof RpcError) continue;
      for (const t of (b.txs || []).slice().reverse()) if (txs.length < HOME_TXS) txs.push([t, b.header.height]);
    }
  }
  const bonded = (vals?.validators || []).filter((v) => v.in_active_set).length;
  const heightEl = h('span', { field: 'height', 'data-height': String(tip) }, fmtInt(tip));
  const blockBody = h('tbody', { id: 'live-blocks' }, blocks.map((b) => blockRow(b, keys, false)));
  const txBody = h('tbody', { id: 'live-txs' }, txs.map(([t, ht]) => txRow(t, ht, false)));
  const noTxs = txs.length ? null : empty('No transactions in the recent blocks yet.');
  view.append(
    h('h1', null, 'Agora network'),
    h(
      'div',
      { class: 'cards' },
      card('Chain', st.chain_id, 'chain-id'),
      card('Height', heightEl),
      card('Transactions', fmtInt(st.total_txs), 'total-txs'),
      card('Validators', `${bonded} active`, 'validators'),
      card('Peers', fmtInt(st.peers), 'peers'),
      card('Mempool', fmtInt(st.mempool_size), 'mempool'),
    ),
    h(
      'div',
      { class: 'grid2 home' },
      panel('Latest blocks', h('table', { class: 'blocks' }, h('thead', null, h('tr', null, h('th', null, 'Height'), h('th', null, 'Hash'), h('th', null, 'Proposer'), h('th', { class: 'num' }, 'Txs'), h('th', null, 'Time'))), blockBody)),
      panel('Latest transactions', noTxs, h('table', { class: 'txs' }, h('thead', null, h('tr', null, h('th', null, 'Hash'), h('th', null, 'Block'), h('th', null, 'Type'), h('th', null, 'To'), h('th', { class: 'num' }, 'Amount'))), txBody)),
    ),
  );
  live.home = { blocks: blockBody, txs: txBody, top: tip, height: heightEl, noTxs };
}

function blockParam(x) {
  return /^\d+$/.test(x) ? Number(x) : x;
}

async function blockPage(view, id) {
  const b = await maybe('agora_getBlock', [blockParam(id), true]);
  if (!b) throw new NotFound(`No block ${id}.`);
  const hd = b.header;
  const ht = Number(hd.height);
  const vals = await validators().catch(() => null);
  const keys = byConsensusKey(vals);
  const sigs = b.last_commit?.signatures || [];
  document.title = `Block ${ht} · Agora explorer`;
  view.append(
    h('h1', null, `Block ${fmtInt(ht)}`),
    h('div', { class: 'pager' }, ht > 1 ? link(['block', ht - 1], '← previous') : null, link(['block', ht + 1], 'next →')),
    panel(
      null,
      kv([
        ['Height', String(ht), 'height'],
        ['Hash', h('span', { class: 'mono' }, b.hash), 'hash'],
        ['Time', `${fmtTime(hd.time_ms)} (${fmtAge(hd.time_ms)})`, 'time'],
        ['Proposer', proposerNode(hd.proposer, keys), 'proposer'],
        ['Client', hd.client, 'client'],
        ['Transactions', String(b.num_txs), 'num-txs'],
        ['Parent', ht > 1 ? link(['block', ht - 1], hd.parent_hash, { class: 'mono' }) : h('span', { class: 'mono' }, hd.parent_hash), 'parent'],
        ['State root', h('span', { class: 'mono' }, hd.state_root), 'state-root'],
        ['Transactions root', h('span', { class: 'mono' }, hd.tx_root)],
        ['Receipts root', h('span', { class: 'mono' }, hd.receipts_root)],
        ['Validator set hash', h('span', { class: 'mono' }, hd.validator_set_hash)],
        ['Last commit', b.last_commit ? `${sigs.length} signatures for block ${fmtInt(b.last_commit.height)} (round ${b.last_commit.round})` : 'none', 'signatures'],
        ['Chain', hd.chain_id],
      ]),
    ),
    panel(`Transactions (${b.num_txs})`, b.txs?.length ? table(['Hash', 'Block', 'Type', 'To', '#Amount'], b.txs.map((t) => txRow(t, ht, false)), { class: 'txs' }) : empty('No transactions.')),
    panel('Block events', eventsTable(b.events, false)),
    b.evidence?.length
      ? panel('Evidence', table(['Type', 'Validator', 'Height'], b.evidence.map((e) => h('tr', null, h('td', null, e.type), h('td', { class: 'mono' }, short(e.validator)), h('td', null, blockLink(e.height))))))
      : null,
  );
}

function payloadRows(p) {
  const rows = [];
  for (const [k, v] of Object.entries(p || {})) {
    if (k === 'type') continue;
    let node;
    if (['to', 'admin', 'creator'].includes(k) && typeof v === 'string') node = addrLink(v, true);
    else if (k === 'contract') node = contractLink(v, true);
    else if (['validator', 'src_validator', 'dst_validator'].includes(k) && typeof v === 'string') node = link(['validator', v], v, { class: 'mono' });
    else if (['amount', 'funds', 'self_stake', 'min_self_delegation'].includes(k)) node = fmtAmount(v);
    else if (k === 'code') node = h('span', { class: 'muted' }, `${typeof v === 'string' ? v.length / 2 : '?'} bytes of wasm`);
    else if (k === 'msg') {
      const t = hexText(v);
      node = t !== null ? h('code', null, t) : h('code', null, short(v));
    } else node = valueNode(v);
    rows.push([k, node, `payload-${k}`]);
  }
  return rows;
}

async function txPage(view, hash) {
  const t = HASH_RE.test(hash) ? await maybe('agora_getTx', [hash.replace(/^0x/, '').toLowerCase()]) : null;
  if (!t) throw new NotFound(`No transaction ${hash}.`);
  const body = t.tx?.body || {};
  const r = t.receipt || {};
  const ok = r.status === 'success';
  document.title = `Transaction ${short(t.hash)} · Agora explorer`;
  const data = hexText(r.data);
  view.append(
    h('h1', null, 'Transaction'),
    panel(
      null,
      kv([
        ['Hash', h('span', { class: 'mono' }, t.hash), 'hash'],
        ['Status', h('span', null, badge(r.status ?? '?', ok ? 'ok' : 'bad'), r.reason ? ` ${r.reason}` : ''), 'status'],
        ['Block', h('span', null, blockLink(t.height), ` (index ${t.index})`), 'height'],
        ['Block hash', link(['block', t.block_hash], t.block_hash, { class: 'mono' })],
        ['Sender', addrLink(r.sender, true), 'sender'],
        ['Nonce', String(body.nonce), 'nonce'],
        ['Type', badge(body.payload?.type ?? '?'), 'type'],
        ...payloadRows(body.payload),
        ['Gas used / limit', `${fmtInt(r.gas_used)} / ${fmtInt(body.gas_limit)}`, 'gas'],
        ['Gas price', fmtAmount(body.gas_price)],
        ['Fee', fmtAmount(r.fee), 'fee'],
        r.data ? ['Result data', h('code', null, data !== null ? data : r.data), 'data'] : null,
      ]),
    ),
    panel(`Events (${(r.events || []).length})`, eventsTable(r.events, false)),
  );
}

// A page of `agora_txsByAddress`: {txs: [{height, index, hash, roles, type, success}], next_cursor}.
function historyNode(page) {
  const list = page?.txs || [];
  if (list.length === 0) return empty('No transactions for this address.');
  const rows = list.map((x) =>
    h(
      'tr',
      null,
      h('td', null, txLink(x.hash)),
      h('td', null, blockLink(x.height)),
      h('td', null, badge(x.type || '')),
      h('td', null, (x.roles || []).join(', ')),
      h('td', null, x.success ? 'ok' : 'failed'),
    ),
  );
  return table(['Transaction', 'Block', 'Type', 'Role', 'Status'], rows, { class: 'history' });
}

async function accountPage(view, addr) {
  const acct = await maybe('agora_getAccount', [addr]);
  if (!acct) throw new NotFound(`${addr} is not an address.`);
  const [dels, contract, validator] = await batch([
    ['agora_delegations', [addr]],
    ['agora_contractInfo', [addr]],
    ['agora_validator', [addr]],
  ]);
  let history;
  try {
    history = historyNode(await rpc('agora_txsByAddress', { address: addr, limit: 25 }));
  } catch (e) {
    history = h('p', { class: 'muted', field: 'history-unavailable' }, e.code === METHOD_NOT_FOUND ? 'History not available: this node does not serve agora_txsByAddress.' : `History not available: ${e.message}`);
  }
  document.title = `Account ${short(addr)} · Agora explorer`;
  const d = dels instanceof RpcError ? null : dels;
  view.append(
    h('h1', null, 'Account'),
    contract instanceof RpcError ? null : h('div', { class: 'notice' }, 'This address is a contract: ', link(['contract', addr], `contract ${contract.label ?? ''}`)),
    validator instanceof RpcError ? null : h('div', { class: 'notice' }, 'This address operates a validator: ', link(['validator', addr], validator.metadata?.moniker || addr)),
    panel(
      null,
      kv([
        ['Address', h('span', { class: 'mono' }, acct.address), 'address'],
        ['Balance', fmtAmount(acct.balance), 'balance'],
        ['Nonce', String(acct.nonce), 'nonce'],
        acct.pending_nonce !== undefined ? ['Pending nonce', String(acct.pending_nonce)] : null,
        d ? ['Delegated', fmtAmount(d.total_delegated), 'delegated'] : null,
        d ? ['Unbonding', fmtAmount(d.total_unbonding)] : null,
        d ? ['Pending rewards', fmtAmount(d.total_pending_rewards)] : null,
        ['At height', blockLink(acct.height)],
      ]),
    ),
    d && d.delegations?.length
      ? panel(
          'Delegations',
          table(
            ['Validator', '#Amount', '#Shares', '#Pending rewards'],
            d.delegations.map((x) => h('tr', null, h('td', null, link(['validator', x.validator], x.moniker || short(x.validator))), num(fmtAmount(x.amount)), num(x.shares), num(fmtAmount(x.pending_rewards)))),
          ),
        )
      : null,
    d && d.unbonding?.length
      ? panel('Unbonding', table(['Validator', '#Balance', 'Completes'], d.unbonding.map((x) => h('tr', null, h('td', null, link(['validator', x.validator], short(x.validator))), num(fmtAmount(x.balance)), h('td', null, fmtTime(x.completion_time_ms))))))
      : null,
    panel('History', history),
  );
}

async function contractPage(view, addr) {
  const c = await maybe('agora_contractInfo', [addr]);
  if (!c) throw new NotFound(`No contract at ${addr}.`);
  const st = await rpc('agora_status', []);
  const tip = Number(st.latest_height);
  const [code, params, events] = await batch([
    ['agora_codeInfo', [c.code_hash]],
    ['agora_chainParams', []],
    ['agora_getEvents', { from_height: Math.max(1, tip - 999), to_height: Math.max(1, tip), contract: addr, limit: 50 }],
  ]);
  // A DAO only if its code says so (see verifyDao), not if it answers like one.
  const trusted = params instanceof RpcError ? null : await trustedDaoCodes(params?.params?.governance);
  const isDao = trusted !== null && c.code_hash === trusted.core && (await verifyDao(addr, trusted)).verified;
  document.title = `Contract ${short(addr)} · Agora explorer`;
  view.append(
    h('h1', null, 'Contract ', h('span', { field: 'title-label' }, c.label)),
    isDao ? h('div', { class: 'notice', field: 'dao-notice' }, 'This contract is a DAO (verified code): ', link(['dao', addr], 'proposals and tallies')) : null,
    panel(
      null,
      kv([
        ['Address', h('span', { class: 'mono' }, c.address), 'address'],
        ['Label', c.label, 'label'],
        ['Code hash', h('span', { class: 'mono' }, c.code_hash), 'code-hash'],
        code instanceof RpcError ? null : ['Code size', `${fmtInt(code.size)} bytes, uploaded at block ${fmtInt(code.height)}`, 'code-size'],
        ['Creator', addrLink(c.creator, true), 'creator'],
        ['Admin', c.admin ? addrLink(c.admin, true) : 'none (immutable)', 'admin'],
        ['Created at', blockLink(c.created_height), 'created'],
        ['Balance', fmtAmount(c.balance), 'balance'],
        ['Account', link(['account', addr], 'balance and history')],
      ]),
    ),
    panel('Recent events (last 1000 blocks)', events instanceof RpcError ? empty(`Events not available: ${events.message}`) : eventsTable(events.events, true)),
  );
}

function validatorRows(list, total) {
  let cum = 0n;
  const t = big(total);
  let halting = true;
  return list.map((v, i) => {
    const p = big(v.power);
    const before = cum;
    cum += p;
    // The fewest validators that together hold ≥ 1/3 of the power.
    const inHalting = halting && p > 0n && before * 3n < t;
    if (cum * 3n >= t) halting = false;
    const share = ratio(v.power, total);
    const bar = h('div', { class: 'bar' }, h('span'));
    bar.firstChild.style.width = `${(share * 100).toFixed(2)}%`;
    const status = v.jailed ? badge('jailed', 'bad') : v.in_active_set ? badge('active', 'ok') : badge(String(v.status ?? 'inactive'), 'warn');
    return h(
      'tr',
      { class: inHalting ? 'halting validator' : 'validator', 'data-operator': v.operator },
      num(String(i + 1)),
      h('td', null, link(['validator', v.operator], v.metadata?.moniker || short(v.operator), { field: 'moniker' })),
      h('td', null, status),
      num(fmtInt(v.power), { field: 'power' }),
      num(pct(share), { field: 'share' }),
      h('td', null, bar),
      num(pct(ratio(String(cum), total))),
      num(v.commission?.rate ?? '–'),
      num(fmtInt(v.missed_blocks)),
    );
  });
}

async function validatorsPage(view) {
  const v = await rpc('agora_validators', []);
  const list = (v.validators || []).slice().sort((a, b) => (big(b.power) > big(a.power) ? 1 : big(b.power) < big(a.power) ? -1 : 0));
  let cum = 0n;
  let nakamoto = 0;
  const t = big(v.total_power);
  for (const x of list) {
    if (t === 0n || cum * 3n >= t) break;
    cum += big(x.power);
    nakamoto++;
  }
  document.title = 'Validators · Agora explorer';
  view.append(
    h('h1', null, 'Validators'),
    h(
      'div',
      { class: 'cards' },
      card('Validators', String(list.length), 'count'),
      card('Active', String(list.filter((x) => x.in_active_set).length), 'active'),
      card('Total voting power', fmtInt(v.total_power), 'total-power'),
      card('Can halt the chain (≥ 1/3)', `${nakamoto} validator${nakamoto === 1 ? '' : 's'}`, 'nakamoto'),
    ),
    panel(
      null,
      table(['##', 'Validator', 'Status', '#Voting power', '#Share', '', '#Cumulative', '#Commission', '#Missed'], validatorRows(list, v.total_power), { class: 'validators' }),
      h('p', { class: 'muted' }, 'Marked rows: the fewest validators that together hold at least 1/3 of the voting power (they can halt the chain). Power is the voting power for the next height.'),
    ),
  );
}

function safeUrl(u) {
  try {
    const x = new URL(String(u));
    return x.protocol === 'https:' || x.protocol === 'http:' ? x.href : null;
  } catch {
    return null;
  }
}

async function validatorPage(view, addr) {
  const v = await maybe('agora_validator', [addr], [NO_VALIDATOR, INVALID_PARAMS, NOT_FOUND]);
  if (!v) throw new NotFound(`No validator with operator ${addr}.`);
  const [all, dels, check] = await batch([
    ['agora_validators', []],
    ['agora_validatorDelegations', { validator: addr, limit: 50 }],
    ['agora_delegationCheck', [addr]],
  ]);
  const total = all instanceof RpcError ? '0' : all.total_power;
  const m = v.metadata || {};
  const site = safeUrl(m.website);
  document.title = `Validator ${m.moniker || short(addr)} · Agora explorer`;
  view.append(
    h('h1', null, 'Validator ', h('span', { field: 'title-moniker' }, m.moniker || short(addr))),
    check instanceof RpcError || !check.warn ? null : h('div', { class: 'notice bad', field: 'halting-warning' }, 'This validator is among the fewest validators that together hold ≥ 1/3 of the voting power: delegating to it concentrates power.'),
    panel(
      null,
      kv([
        ['Moniker', m.moniker, 'moniker'],
        ['Operator', addrLink(v.operator, true), 'operator'],
        ['Consensus key', h('span', { class: 'mono' }, v.consensus_key), 'consensus-key'],
        ['Status', h('span', null, v.jailed ? badge('jailed', 'bad') : v.in_active_set ? badge('active', 'ok') : badge(String(v.status), 'warn'), v.tombstoned ? ' tombstoned' : ''), 'status'],
        ['Voting power', `${fmtInt(v.power)} (${pct(ratio(v.power, total))} of ${fmtInt(total)})`, 'power'],
        ['Tokens', fmtAmount(v.tokens), 'tokens'],
        ['Self-delegation', fmtAmount(v.self_delegation)],
        ['Commission', `${v.commission?.rate} (max ${v.commission?.max_rate}, max change ${v.commission?.max_change_rate})`, 'commission'],
        ['Missed blocks', `${fmtInt(v.missed_blocks)} of the last ${fmtInt(v.signed_blocks_window)}`, 'missed'],
        ['Created at', Number(v.created_height) > 0 ? blockLink(v.created_height) : 'genesis'],
        ['Website', site ? h('a', { href: site, rel: 'noopener noreferrer nofollow', target: '_blank' }, m.website) : m.website || '–'],
        ['Operator entity', m.operator_entity || '–'],
        ['Country', m.country || '–'],
        ['Hosting', m.hosting || '–'],
        ['Client', m.client_version || '–'],
        ['Details', m.details || '–'],
      ]),
    ),
    panel(
      'Delegations',
      dels instanceof RpcError || !dels.delegations?.length
        ? empty('No delegations.')
        : table(['Delegator', '#Amount', '#Shares', '#Pending rewards'], dels.delegations.map((x) => h('tr', null, h('td', null, addrLink(x.delegator)), num(fmtAmount(x.amount)), num(x.shares), num(fmtAmount(x.pending_rewards))))),
    ),
  );
}

// ---------------------------------------------------------------- DAO ----

async function query(addr, msg) {
  const r = await rpc('agora_contractQuery', { address: addr, msg });
  return r.data;
}

// Which contracts are DAOs is decided by their code, never by what they say:
// any contract can emit a `dao_created` event or answer a `config` query with
// any name. The root of trust is the chain's governance DAO
// (`params.governance`, set at genesis or by governance itself): a DAO is
// *verified* when its core runs the same code (code hash) as the governance
// DAO's core and each of its modules runs the code of one of the governance
// DAO's modules. Anything else is shown as an unverified contract, with its
// code hash, and none of its self-description is presented as a DAO's.
async function trustedDaoCodes(gov) {
  if (typeof gov !== 'string' || !ADDRESS_RE.test(gov)) return null;
  const info = await maybe('agora_contractInfo', [gov]);
  if (!info) return null;
  let cfg;
  try {
    cfg = await query(gov, { config: {} });
  } catch (e) {
    return null;
  }
  const mods = [cfg?.voting_module, ...(Array.isArray(cfg?.proposal_modules) ? cfg.proposal_modules : [])]
    .filter((m) => typeof m === 'string' && ADDRESS_RE.test(m))
    .slice(0, MAX_MODULES + 1);
  const infos = await batch(mods.map((m) => ['agora_contractInfo', [m]]));
  const modules = new Set(infos.filter((i) => !(i instanceof RpcError) && i && HASH_RE.test(i.code_hash)).map((i) => i.code_hash));
  return { governance: gov, core: info.code_hash, modules };
}

// Checks `addr` against the trusted codes: `{verified, codeHash, cfg, reason}`.
async function verifyDao(addr, trusted) {
  const info = await maybe('agora_contractInfo', [addr]);
  if (!info) return { verified: false, codeHash: null, cfg: null, reason: 'there is no contract at this address' };
  const out = { verified: false, codeHash: info.code_hash, cfg: null, reason: '' };
  if (!trusted) {
    out.reason = 'the chain has no governance DAO whose code could vouch for it';
    return out;
  }
  if (info.code_hash !== trusted.core) {
    out.reason = 'its code is not the DAO core code of the chain\u2019s governance DAO';
    return out;
  }
  try {
    out.cfg = await query(addr, { config: {} });
  } catch (e) {
    out.reason = `its configuration cannot be read (${e.message})`;
    return out;
  }
  const cfg = out.cfg;
  const proposalModules = Array.isArray(cfg?.proposal_modules) ? cfg.proposal_modules : [];
  const mods = [cfg?.voting_module, ...proposalModules];
  if (mods.length > MAX_MODULES + 1 || !mods.every((m) => typeof m === 'string' && ADDRESS_RE.test(m))) {
    out.reason = 'its modules are not contract addresses';
    return out;
  }
  const infos = await batch(mods.map((m) => ['agora_contractInfo', [m]]));
  const bad = mods.find((m, i) => infos[i] instanceof RpcError || !infos[i] || !trusted.modules.has(infos[i].code_hash));
  if (bad) {
    out.reason = `its module ${bad} does not run the code of a module of the chain\u2019s governance DAO`;
    return out;
  }
  out.verified = true;
  return out;
}

async function findDaos() {
  const found = [];
  const params = await rpc('agora_chainParams', []);
  const gov = params?.params?.governance;
  const trusted = await trustedDaoCodes(gov);
  if (typeof gov === 'string' && ADDRESS_RE.test(gov)) found.push(gov);
  // The contracts running the trusted DAO core code, however old…
  if (trusted && HASH_RE.test(trusted.core)) {
    const r = await maybe('agora_contractsByCode', { code_hash: trusted.core, limit: MAX_DAOS });
    for (const c of r?.contracts || []) {
      if (ADDRESS_RE.test(c.address) && !found.includes(c.address) && found.length < MAX_DAOS) found.push(c.address);
    }
  }
  // …and whatever announced itself as a DAO recently (to be checked).
  const st = await rpc('agora_status', []);
  const tip = Number(st.latest_height);
  let from = Math.max(1, tip - DAO_SCAN_BLOCKS + 1);
  for (let page = 0; page < 10 && from && from <= tip && found.length < MAX_DAOS; page++) {
    const r = await rpc('agora_getEvents', { from_height: from, to_height: tip, kind: 'wasm-dao_created', limit: 100 });
    for (const x of r.events || []) {
      const c = (x.event?.attributes || []).find((a) => Array.isArray(a) && a[0] === '_contract');
      if (c && ADDRESS_RE.test(c[1]) && !found.includes(c[1]) && found.length < MAX_DAOS) found.push(c[1]);
    }
    from = r.next_from_height;
  }
  return { daos: found, governance: gov, trusted };
}

function tallyNode(p) {
  const t = p.tally || {};
  const total = p.total_power;
  const parts = [
    ['yes', t.yes, 't-yes'],
    ['no', t.no, 't-no'],
    ['abstain', t.abstain, 't-abstain'],
    ['no with veto', t.no_with_veto, 't-veto'],
  ];
  const bar = h('div', { class: 'tally', title: 'share of the total voting power at the snapshot' });
  for (const [, v, cls] of parts) {
    const span = h('span', { class: cls });
    span.style.width = `${(ratio(v, total) * 100).toFixed(3)}%`;
    bar.append(span);
  }
  return h(
    'div',
    null,
    bar,
    h(
      'div',
      { class: 'legend' },
      parts.map(([name, v, cls]) => h('span', { 'data-option': name }, h('i', { class: cls }), `${name}: ${fmtInt(v ?? '0')} (${pct(ratio(v, total))})`)),
      h('span', null, `total power ${fmtInt(total)}`),
      h('span', null, p.quorum_reached ? badge('quorum reached', 'ok') : badge('no quorum yet', 'warn')),
    ),
  );
}

function statusKind(s) {
  if (['passed', 'executed', 'open'].includes(s)) return 'ok';
  if (['rejected', 'vetoed', 'execution_failed', 'expired', 'cancelled'].includes(s)) return 'bad';
  return 'warn';
}

// An unverified contract: its address, code hash and why; what it says about
// itself only as a quoted claim, and no proposals.
async function unverifiedNode(addr, v) {
  let claim = null;
  try {
    const cfg = v.cfg ?? (await query(addr, { config: {} }));
    if (typeof cfg?.name === 'string') claim = cfg.name.slice(0, 200);
  } catch (e) {
    // Not even a DAO's interface: nothing to quote.
  }
  return h(
    'section',
    { class: 'panel unverified', 'data-dao': addr, 'data-verified': 'false' },
    h('h2', null, 'Unverified contract ', badge('unverified: not a known DAO code', 'bad')),
    h('p', { class: 'notice bad' }, `This contract announced itself as a DAO, but ${v.reason}. Do not trust its name, texts or proposals.`),
    kv([
      ['Contract', contractLink(addr, true), 'dao-address'],
      ['Code hash', h('span', { class: 'mono', field: 'dao-code-hash' }, v.codeHash ?? '–')],
      claim !== null ? ['Claims to be', h('q', { field: 'dao-claim' }, claim)] : null,
    ]),
  );
}

async function daoNode(addr, governance, trusted) {
  const v = await verifyDao(addr, trusted);
  if (!v.verified) return unverifiedNode(addr, v);
  const cfg = v.cfg;
  const modules = (Array.isArray(cfg?.proposal_modules) ? cfg.proposal_modules : []).slice(0, MAX_MODULES);
  const sections = [];
  for (const mod of modules) {
    let list;
    try {
      list = (await query(mod, { reverse_proposals: { limit: PROPOSALS } }))?.proposals || [];
    } catch (e) {
      sections.push(h('p', { class: 'muted' }, `Proposal module ${short(mod)}: ${e.message}`));
      continue;
    }
    sections.push(
      h('h2', null, 'Proposals of module ', contractLink(mod)),
      list.length === 0
        ? empty('No proposals yet.')
        : list.map((p) =>
            h(
              'div',
              { class: 'proposal', 'data-proposal': String(p.id) },
              h('div', null, h('span', { class: 'muted' }, `#${p.id} `), h('span', { class: 'title', field: 'proposal-title' }, p.title), ' ', badge(p.status, statusKind(p.status))),
              p.description ? h('div', { class: 'muted' }, p.description) : null,
              h('div', { class: 'muted' }, 'proposed by ', addrLink(p.proposer), ` · snapshot at block ${fmtInt(p.snapshot_height)} · voting ends ${fmtTime(p.voting_end_ms)}`),
              tallyNode(p),
            ),
          ),
    );
  }
  const node = panel(
    null,
    h(
      'h2',
      null,
      h('span', { field: 'dao-name' }, cfg?.name ?? '?'),
      ' ',
      badge('verified DAO code', 'ok'),
      ' ',
      governance === addr ? badge('governs the chain', 'ok') : null,
    ),
    cfg?.description ? h('p', { class: 'muted' }, cfg.description) : null,
    kv([
      ['DAO core', contractLink(addr, true), 'dao-address'],
      ['Code hash', h('span', { class: 'mono', field: 'dao-code-hash' }, v.codeHash)],
      ['Voting module', contractLink(cfg?.voting_module, true)],
      ['Proposal modules', h('span', null, modules.map((m) => [contractLink(m), ' ']))],
    ]),
    sections,
  );
  node.dataset.dao = addr;
  node.dataset.verified = 'true';
  return node;
}

async function daoPage(view, addr) {
  let daos;
  let governance = null;
  let trusted = null;
  if (addr) {
    daos = [addr];
    governance = (await rpc('agora_chainParams', []))?.params?.governance;
    trusted = await trustedDaoCodes(governance);
  } else {
    ({ daos, governance, trusted } = await findDaos());
  }
  document.title = 'DAO · Agora explorer';
  view.append(h('h1', null, 'DAO proposals'));
  if (daos.length === 0) {
    view.append(h('div', { class: 'notfound', field: 'no-dao' }, `No DAO found: the chain has no governance contract and no DAO was created in the last ${fmtInt(DAO_SCAN_BLOCKS)} blocks.`));
    return;
  }
  const nodes = [];
  for (const d of daos) nodes.push(await daoNode(d, governance, trusted));
  // Verified DAOs first; unverified contracts after them.
  for (const n of nodes.filter((n) => n.dataset.verified === 'true')) view.append(n);
  for (const n of nodes.filter((n) => n.dataset.verified !== 'true')) view.append(n);
}

// ---------------------------------------------------- decentralization ----

function exactValue(x) {
  if (x === null || x === undefined) return null;
  if (typeof x === 'number') return x;
  if (typeof x === 'object' && typeof x.value === 'number') return x.value;
  const n = Number(x);
  return Number.isFinite(n) ? n : null;
}

function chartFrame(w, hgt, pad) {
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${w} ${hgt}`, role: 'img' });
  svg.append(s('line', { class: 'axis', x1: pad, y1: hgt - pad, x2: w - 10, y2: hgt - pad }), s('line', { class: 'axis', x1: pad, y1: 10, x2: pad, y2: hgt - pad }));
  return svg;
}

// The Lorenz curve of a distribution: entities from the smallest weight up
// on x, cumulative share of the weight on y; the diagonal is equality.
function lorenz(dist) {
  const weights = (dist.entities || []).map((e) => big(e.weight));
  const restN = Number(dist.rest_entities || 0);
  const restW = big(dist.rest_weight);
  // Entities folded into "rest" are drawn as equal shares of the rest.
  for (let i = 0; i < Math.min(restN, 1000); i++) weights.push(restW / BigInt(restN));
  weights.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const total = weights.reduce((a, b) => a + b, 0n);
  const W = 440;
  const H = 320;
  const P = 44;
  const x = (f) => P + f * (W - P - 24);
  const y = (f) => H - P - f * (H - P - 10);
  const svg = chartFrame(W, H, P);
  svg.setAttribute('aria-label', `Lorenz curve of ${dist.subsystem}`);
  svg.dataset.chart = 'lorenz';
  for (const f of [0.25, 0.5, 0.75, 1]) {
    svg.append(s('line', { class: 'grid', x1: P, y1: y(f), x2: x(1), y2: y(f) }), s('text', { x: P - 6, y: y(f) + 4, 'text-anchor': 'end' }, `${f * 100}%`));
    svg.append(s('text', { x: x(f), y: H - P + 16, 'text-anchor': 'middle' }, `${f * 100}%`));
  }
  svg.append(s('line', { class: 'equality', x1: x(0), y1: y(0), x2: x(1), y2: y(1) }));
  const n = weights.length;
  const pts = [[x(0), y(0)]];
  let cum = 0n;
  weights.forEach((wt, i) => {
    cum += wt;
    pts.push([x((i + 1) / n), y(total === 0n ? 0 : Number((cum * 1000000n) / total) / 1e6)]);
  });
  const curve = pts.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join(' ');
  svg.append(s('path', { class: 'lorenz-area', d: `${curve} L${x(1)},${y(0)} Z` }), s('path', { class: 'lorenz', d: curve }));
  for (const [a, b] of pts.slice(1)) if (n <= 50) svg.append(s('circle', { class: 'd0', cx: a.toFixed(1), cy: b.toFixed(1), r: 3 }));
  svg.append(s('text', { x: (P + W) / 2, y: H - 8, 'text-anchor': 'middle' }, `share of ${dist.subsystem} entities (smallest first), n = ${n}`));
  svg.append(s('text', { x: 12, y: H / 2, transform: `rotate(-90 12 ${H / 2})`, 'text-anchor': 'middle' }, 'share of weight'));
  return svg;
}

// Nakamoto coefficients over epochs, one line per series.
function nakamotoChart(epochs) {
  const series = [
    ['validators, ≥ 1/3 (halt)', (e) => e.subsystems?.validators?.nakamoto?.bft_halt],
    ['validators, > 1/2 (majority)', (e) => e.subsystems?.validators?.nakamoto?.majority],
    ['headline, ≥ 1/3 (all subsystems)', (e) => (e.headline || []).find((x) => x.threshold === 'bft_halt')?.value],
  ];
  const W = 560;
  const H = 320;
  const P = 44;
  const svg = chartFrame(W, H, P);
  svg.dataset.chart = 'nakamoto';
  svg.setAttribute('aria-label', 'Nakamoto coefficient over epochs');
  const vals = epochs.flatMap((e) => series.map(([, f]) => Number(f(e)))).filter((v) => Number.isFinite(v));
  const maxY = Math.max(1, ...vals);
  const e0 = Number(epochs[0].epoch);
  const e1 = Number(epochs[epochs.length - 1].epoch);
  const x = (e) => P + (e1 === e0 ? 0.5 : (e - e0) / (e1 - e0)) * (W - P - 20);
  const y = (v) => H - P - (v / maxY) * (H - P - 20);
  for (let v = 0; v <= maxY; v += Math.max(1, Math.ceil(maxY / 5))) {
    svg.append(s('line', { class: 'grid', x1: P, y1: y(v), x2: W - 10, y2: y(v) }), s('text', { x: P - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  const ticks = Math.min(epochs.length, 8);
  for (let i = 0; i < ticks; i++) {
    const e = epochs[Math.round((i * (epochs.length - 1)) / Math.max(1, ticks - 1))];
    svg.append(s('text', { x: x(Number(e.epoch)), y: H - P + 16, 'text-anchor': 'middle' }, String(e.epoch)));
  }
  series.forEach(([, f], i) => {
    const pts = epochs.map((e) => [Number(e.epoch), Number(f(e))]).filter(([, v]) => Number.isFinite(v));
    if (pts.length === 0) return;
    svg.append(s('path', { class: `s${i}`, d: pts.map(([e, v], j) => `${j ? 'L' : 'M'}${x(e).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }));
    for (const [e, v] of pts) svg.append(s('circle', { class: `d${i}`, cx: x(e).toFixed(1), cy: y(v).toFixed(1), r: 3 }));
  });
  svg.append(s('text', { x: (P + W) / 2, y: H - 8, 'text-anchor': 'middle' }, 'epoch'));
  const legend = h('div', { class: 'legend' }, series.map(([name], i) => h('span', null, h('i', { class: `k${i}` }), name)));
  return [svg, legend];
}

async function decentralizationPage(view) {
  document.title = 'Decentralization · Agora explorer';
  view.append(h('h1', null, 'Decentralization'));
  const idx = await maybe('agora_decentralization', [], [NOT_FOUND]);
  if (!idx) {
    view.append(h('div', { class: 'notfound', field: 'no-epoch' }, 'No epoch has ended yet: the decentralization index is computed at the end of each epoch.'));
    return;
  }
  const hist = await rpc('agora_decentralizationHistory', { limit: 100 });
  const names = (idx.subsystems || []).map((x) => x.name);
  const sel = h('select', { id: 'subsystem', 'aria-label': 'Subsystem' }, names.map((n) => h('option', { value: n }, n)));
  sel.value = names.includes('validators') ? 'validators' : names[0];
  const lorenzBox = h('div', { field: 'lorenz' });
  const showLorenz = async () => {
    const name = sel.value;
    const sub = (idx.subsystems || []).find((x) => x.name === name);
    const dist = await rpc('agora_decentralizationDistribution', { subsystem: name, epoch: idx.epoch });
    const gini = exactValue(sub?.metrics?.gini);
    lorenzBox.replaceChildren(lorenz(dist), h('p', { class: 'muted' }, `Gini ${gini === null ? '–' : gini.toFixed(3)} · ${fmtInt(dist.entities?.length ?? 0)} listed entities${dist.rest_entities ? ` + ${dist.rest_entities} more` : ''} · total weight ${fmtInt(dist.total)}`));
  };
  sel.addEventListener('change', () => showLorenz().catch((e) => lorenzBox.replaceChildren(empty(e.message))));
  await showLorenz();
  const epochs = (hist.epochs || []).slice().sort((a, b) => Number(a.epoch) - Number(b.epoch));
  const head = (idx.headline || []).map((x) =>
    h('tr', null, h('td', null, h('code', null, x.threshold)), h('td', null, x.rule ?? `${x.comparison} ${x.fraction}`), num(x.value ?? '–', { field: `headline-${x.threshold}` }), h('td', null, (x.subsystems || []).join(', '))),
  );
  const subs = (idx.subsystems || []).map((x) => {
    const m = x.metrics || {};
    const bft = (m.nakamoto || []).find((n) => n.name === 'bft_halt');
    const f = (v, d = 3) => {
      const n = exactValue(v);
      return n === null ? '–' : n.toFixed(d);
    };
    return h('tr', null, h('td', null, x.name, x.upper_bound ? ' ' : '', x.upper_bound ? badge('upper bound', 'warn') : null), num(fmtInt(m.entities ?? x.entities)), num(bft?.value ?? '–'), num(f(m.hhi, 0)), num(f(m.gini)), num(f(m.largest_share)));
  });
  view.append(
    h(
      'div',
      { class: 'cards' },
      card('Epoch', fmtInt(idx.epoch), 'epoch'),
      card('Blocks', `${fmtInt(idx.start_height)} – ${fmtInt(idx.end_height)}`),
      card('Nakamoto (≥ 1/3, all subsystems)', String((idx.headline || []).find((x) => x.threshold === 'bft_halt')?.value ?? '–'), 'nakamoto'),
    ),
    h('div', { class: 'grid2' }, panel(null, h('h2', null, 'Lorenz curve of ', sel), lorenzBox), panel('Nakamoto coefficient over epochs', epochs.length ? nakamotoChart(epochs) : empty('No history yet.'))),
    panel('Headline: fewest entities over all subsystems', table(['Threshold', 'Rule', '#Entities', 'Set by'], head)),
    panel('Subsystems', table(['Subsystem', '#Entities', '#Nakamoto ≥ 1/3', '#HHI', '#Gini', '#Largest share'], subs)),
  );
}

// ------------------------------------------------------------- search ----

async function searchPage(view, q) {
  const t = q.trim();
  if (!t) return location.replace('#/');
  if (/^\d+$/.test(t)) {
    if (await maybe('agora_getBlock', [Number(t), false])) return location.replace(route('block', t));
  } else if (HASH_RE.test(t)) {
    const hash = t.replace(/^0x/, '').toLowerCase();
    if (await maybe('agora_getTx', [hash])) return location.replace(route('tx', hash));
    if (await maybe('agora_getBlock', [hash, false])) return location.replace(route('block', hash));
  } else if (/^agora1/i.test(t)) {
    const a = t.toLowerCase();
    if (await maybe('agora_contractInfo', [a])) return location.replace(route('contract', a));
    if (await maybe('agora_getAccount', [a])) return location.replace(route('account', a));
  } else {
    const vals = await validators().catch(() => null);
    const v = (vals?.validators || []).find((x) => (x.metadata?.moniker || '').toLowerCase() === t.toLowerCase());
    if (v) return location.replace(route('validator', v.operator));
  }
  throw new NotFound(`Nothing found for “${t}”.`, 'Search takes a block height, a block or transaction hash, an address or a validator name.');
}

// ------------------------------------------------------------- router ----

const ROUTES = [
  [/^$/, homePage, 'home'],
  [/^block\/([^/]+)$/, blockPage, 'block'],
  [/^tx\/([^/]+)$/, txPage, 'tx'],
  [/^account\/([^/]+)$/, accountPage, 'account'],
  [/^contract\/([^/]+)$/, contractPage, 'contract'],
  [/^validators$/, validatorsPage, 'validators'],
  [/^validator\/([^/]+)$/, validatorPage, 'validator'],
  [/^dao$/, daoPage, 'dao'],
  [/^dao\/([^/]+)$/, daoPage, 'dao'],
  [/^decentralization$/, decentralizationPage, 'decentralization'],
  [/^search\/(.*)$/, searchPage, 'search'],
];

let generation = 0;

async function render() {
  const gen = ++generation;
  const main = document.getElementById('main');
  live.home = null;
  const raw = location.hash.replace(/^#\/?/, '');
  let match = null;
  for (const [re, fn, name] of ROUTES) {
    const m = re.exec(raw);
    if (m) {
      match = { fn, name, args: m.slice(1) };
      break;
    }
  }
  main.dataset.ready = '0';
  main.dataset.page = match ? match.name : 'unknown';
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  document.title = 'Agora explorer';
  // Pages append to `view`; null/false children are skipped (a bare
  // DocumentFragment.append would print them as text).
  const frag = document.createDocumentFragment();
  const view = { append: (...kids) => add(frag, kids) };
  let state = 'done';
  try {
    if (!match) throw new NotFound('No such page.');
    let args;
    try {
      args = match.args.map((a) => decodeURIComponent(a));
    } catch {
      throw new NotFound('No such page.');
    }
    await match.fn(view, ...args);
  } catch (e) {
    frag.replaceChildren();
    if (e instanceof NotFound) {
      state = 'not-found';
      frag.append(h('div', { class: 'notfound' }, h('span', { field: 'not-found' }, e.message), e.hint ? h('span', { class: 'hint' }, e.hint) : null));
    } else {
      state = 'error';
      frag.append(h('div', { class: 'notice bad', field: 'error' }, `The node answered with an error: ${e.message}`));
    }
  }
  if (gen !== generation) return; // a newer navigation won
  // A search that found something replaced the location: that page renders next.
  if (match?.name === 'search' && state === 'done') return;
  main.replaceChildren(frag);
  main.dataset.ready = state;
  window.scrollTo(0, 0);
}

async function statusLine() {
  try {
    const st = await rpc('agora_status', []);
    const el = document.getElementById('chain');
    el.replaceChildren(h('span', null, `chain ${st.chain_id} · node ${st.moniker} (${st.client}) · `), h('span', { id: 'chain-height' }, `height ${fmtInt(st.latest_height)}`));
  } catch {
    /* the status line is informative only */
  }
}

document.getElementById('search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = document.getElementById('q').value.trim().slice(0, 200);
  if (q) location.hash = route('search', q);
});
window.addEventListener('hashchange', render);
statusLine();
connectLive();
render();
