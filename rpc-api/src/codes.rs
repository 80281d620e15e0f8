//! Agora's JSON-RPC error codes (docs/rpc.md, "Errors"). The node answers with
//! them and the clients match on them; both use these constants.

pub const TX_MALFORMED: i32 = 1001;
pub const TX_TOO_LARGE: i32 = 1002;
pub const BAD_SIGNATURE: i32 = 1003;
pub const WRONG_CHAIN_ID: i32 = 1004;
/// Nonce already used (`data: {expected}`).
pub const NONCE_TOO_LOW: i32 = 1005;
pub const NONCE_GAP: i32 = 1006;
pub const FEE: i32 = 1007;
pub const DUPLICATE: i32 = 1008;
pub const MEMPOOL_FULL: i32 = 1009;
pub const TX_INVALID: i32 = 1010;
/// Timed out waiting for commit (the transaction may still commit).
pub const TIMEOUT: i32 = 1011;
pub const NOT_FOUND: i32 = 1012;
pub const SHUTTING_DOWN: i32 = 1013;
pub const CONTRACT_FAILED: i32 = 1014;
/// Too many queries or dry runs in progress; retry.
pub const BUSY: i32 = 1015;
/// Too many requests from this address (the RPC rate limit); retry later.
pub const RATE_LIMITED: i32 = 1016;
/// The requested height is pruned or not yet committed.
pub const HEIGHT_UNAVAILABLE: i32 = 1017;
/// The node holds its maximum of subscriptions (`rpc.max_subscriptions_total`,
/// all connections together); retry later.
pub const TOO_MANY_SUBSCRIPTIONS: i32 = 1018;
pub const NO_VALIDATOR: i32 = 1020;
pub const INVALID_PARAMS: i32 = -32602;
pub const INTERNAL: i32 = -32603;
