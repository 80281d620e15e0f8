//! `agora`: the Agora wallet command line. Errors are printed on stderr as
//! `error: …`; the exit code is 0 on success, 1 on errors, 2 on usage errors
//! and 3 when a transaction was committed but failed.

use std::process::ExitCode;

use clap::Parser;
use wallet_cli::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(wallet_cli::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
