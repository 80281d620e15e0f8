// Blocks and transactions: the home page (latest blocks and transactions,
// kept current by the live feed in app.js), a block, a transaction.

import { batch, byConsensusKey, HASH_RE, maybe, rpc, RpcError, validators } from './rpc.js';
import { addrLink, badge, blockLink, card, contractLink, empty, eventsTable, fmtAge, fmtAmount, fmtInt, fmtTime, h, hexText, kv, link, NotFound, num, panel, short, table, txLink, valueNode } from './ui.js';

export const HOME_BLOCKS = 15; // latest blocks on the home page
export const HOME_TXS = 20; // latest transactions on the home page
const HOME_TX_BLOCKS = 60; // how far back the home page looks for transactions

// The live feed (app.js) and the home page it updates (`home`, set by homePage).
export const live = { ws: null, retry: 0, home: null, lastHeight: 0, queue: Promise.resolve() };

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

export function txRow(t, height, fresh) {
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

export function blockRow(b, keys, fresh) {
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

export async function homePage(view) {
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

export async function blockPage(view, id) {
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

export async function txPage(view, hash) {
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
