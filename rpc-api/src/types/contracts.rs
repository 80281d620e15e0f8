//! (to be filled: the contracts types)
