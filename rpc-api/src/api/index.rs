//! (to be filled: the index methods)
