//! `agora`: the Agora wallet command line. Errors are printed on stderr as
//! `error: …` (under `-o json`: one `{"error": {…}}` document on stdout). Exit
//! codes: 0 success, 1 a committed but failed transaction or any other error,
//! 2 usage error, 3 not committed yet (timeout), 4 refused by the node or wrong
//! chain (see `wallet_cli::error`).

use std::process::ExitCode;

use clap::Parser;
use wallet_cli::cli::Cli;
use wallet_cli::error::{EXIT_FAILED, EXIT_USAGE};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(usage_error(&e)),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    ExitCode::from(runtime.block_on(wallet_cli::commands::execute(cli)))
}

/// Prints clap's error (or help, or version) and returns the exit code: 2 for
/// usage errors, as JSON on stdout when the command line asks for `-o json`.
fn usage_error(e: &clap::Error) -> u8 {
    if e.use_stderr() && wallet_cli::cli::wants_json(std::env::args_os()) {
        let message = e.kind().as_str().map(str::to_owned).unwrap_or_else(|| "usage error".to_owned());
        let detail = e.render().to_string();
        let doc = serde_json::json!({
            "error": { "code": EXIT_USAGE, "kind": "usage", "message": message, "data": { "detail": detail.trim_end() } }
        });
        println!("{doc:#}");
        return EXIT_USAGE;
    }
    let _ = e.print();
    if e.use_stderr() { EXIT_USAGE } else { 0 }
}
