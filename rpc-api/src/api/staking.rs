//! (to be filled: the staking methods)
