//! (to be filled: the chain methods)
