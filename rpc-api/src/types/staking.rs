//! (to be filled: the staking types)
