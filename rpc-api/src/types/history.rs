//! (to be filled: the history types)
