//! Caps the contract's linear memory at 256 pages (16 MiB), the chain's
//! `max_memory_pages`: the module then declares that maximum and `memory.grow`
//! past it returns -1 inside the contract instead of being refused at upload.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=--max-memory=16777216");
    }
}
