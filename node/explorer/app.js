// The Agora block explorer: plain ES modules served by the node from its own
// binary. No framework, no build step, no third-party code; modules import
// each other by relative path only (same origin, as the CSP requires).
//
// app.js: the router, the status line and the live feed (new blocks over
// the WebSocket). rpc.js: the JSON-RPC client; ui.js: DOM builders and
// formatting; blocks.js, accounts.js, validators.js, dao.js and
// decentralization.js: the pages.
//
// Every string that comes from the chain (labels, monikers, proposal titles,
// event attributes, …) is hostile: the page is built with DOM APIs and
// `textContent` only, never `innerHTML`, and links are built from our own
// routes (`#/…`), never from chain data (except a validator's website, shown
// as a link only when it parses as an http(s) URL).

import { batch, byConsensusKey, HASH_RE, maybe, rpc, RpcError, validators } from './rpc.js';
import { add, fmtInt, h, NotFound, route } from './ui.js';
import { blockPage, blockRow, HOME_BLOCKS, HOME_TXS, homePage, live, txPage, txRow } from './blocks.js';
import { accountPage, contractPage } from './accounts.js';
import { validatorPage, validatorsPage } from './validators.js';
import { daoPage } from './dao.js';
import { decentralizationPage } from './decentralization.js';

// ----------------------------------------------------------- live feed ----

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
