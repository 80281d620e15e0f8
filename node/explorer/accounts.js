// Accounts and contracts.

import { batch, maybe, METHOD_NOT_FOUND, rpc, RpcError } from './rpc.js';
import { addrLink, badge, blockLink, empty, eventsTable, fmtAmount, fmtInt, fmtTime, h, kv, link, NotFound, num, panel, short, table, txLink } from './ui.js';
import { trustedDaoCodes, verifyDao } from './dao.js';

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

export async function accountPage(view, addr) {
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

export async function contractPage(view, addr) {
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
