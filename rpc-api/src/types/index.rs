//! (to be filled: the index types)
