// DAOs: which contracts are DAOs (decided by their code), their proposals
// and tallies.

import { ADDRESS_RE, batch, HASH_RE, maybe, rpc, RpcError } from './rpc.js';
import { addrLink, badge, contractLink, empty, fmtInt, fmtTime, h, kv, panel, pct, ratio, short } from './ui.js';

const DAO_SCAN_BLOCKS = 5000; // how far back DAOs are looked for (dao_created events)
const MAX_DAOS = 10;
const MAX_MODULES = 4;
const PROPOSALS = 20;

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
export async function trustedDaoCodes(gov) {
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
export async function verifyDao(addr, trusted) {
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

export async function daoPage(view, addr) {
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
