//! (to be filled: the history methods)
