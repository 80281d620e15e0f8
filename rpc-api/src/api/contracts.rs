//! (to be filled: the contracts methods)
