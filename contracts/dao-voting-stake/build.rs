//! Caps the contract's linear memory at 256 pages (16 MiB), the chain's
//! `max_memory_pages`: the module then declares that maximum and `memory.grow`
//! past it returns -1 inside the contract instead of being refused at upload.
//!
//! Sets the shadow stack (the part of the stack in linear memory) to 64 KiB
//! instead of rustc's 1 MiB. Every 64 KiB page of a call's memory costs gas
//! (`gas_memory_page`, first-touch page faults), and the initial memory is the
//! stack plus the static data: 17 pages (340 000 gas a call) with the default,
//! 2 with this one. The stack sits below the data (`--stack-first`, rustc's
//! default for wasm32), so overflowing it traps out of bounds instead of
//! overwriting data: a failed call, never corrupted state.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=--max-memory=16777216");
        println!("cargo:rustc-link-arg=-zstack-size=65536");
    }
}
