// The validator set and one validator.

import { batch, INVALID_PARAMS, maybe, NO_VALIDATOR, NOT_FOUND, rpc, RpcError } from './rpc.js';
import { addrLink, badge, big, blockLink, card, empty, fmtAmount, fmtInt, h, kv, link, NotFound, num, panel, pct, ratio, short, table } from './ui.js';

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

export async function validatorsPage(view) {
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

export async function validatorPage(view, addr) {
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
