// JSON-RPC over HTTP for the explorer: single calls, batches, the error codes
// the pages tell apart, the address and hash shapes, and a short-lived cache
// of the validator set.

const RPC_URL = '/';
const RPC_TIMEOUT_MS = 15000;
const BATCH = 20; // calls per JSON-RPC batch
export const ADDRESS_RE = /^agora1[02-9ac-hj-np-z]{6,90}$/;
export const HASH_RE = /^(0x)?[0-9a-fA-F]{64}$/;

// ---------------------------------------------------------------- RPC ----

export class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
export const NOT_FOUND = 1012;
export const NO_VALIDATOR = 1020;
export const INVALID_PARAMS = -32602;
export const METHOD_NOT_FOUND = -32601;

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

export async function rpc(method, params = []) {
  const r = unwrap(await post({ jsonrpc: '2.0', id: nextId++, method, params }));
  if (r instanceof RpcError) throw r;
  return r;
}

// Several calls, BATCH per HTTP request (JSON-RPC batches); each entry of the
// answer is a result or an RpcError. Falls back to single calls if the node
// refuses batches.
export async function batch(calls) {
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
export async function maybe(method, params, codes = [NOT_FOUND, INVALID_PARAMS]) {
  try {
    return await rpc(method, params);
  } catch (e) {
    if (e instanceof RpcError && codes.includes(e.code)) return null;
    throw e;
  }
}

// ------------------------------------------------------------ caches ----

let validatorCache = { at: 0, list: null };
export async function validators() {
  if (validatorCache.list && Date.now() - validatorCache.at < 30000) return validatorCache.list;
  const v = await rpc('agora_validators', []);
  validatorCache = { at: Date.now(), list: v };
  return v;
}
export function byConsensusKey(vals) {
  const m = new Map();
  for (const v of vals?.validators || []) m.set(v.consensus_key, v);
  return m;
}
