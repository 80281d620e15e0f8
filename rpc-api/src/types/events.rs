//! (to be filled: the events types)
