//! (to be filled: the events methods)
