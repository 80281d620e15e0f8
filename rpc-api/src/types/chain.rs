//! (to be filled: the chain types)
