//! Where passwords and mnemonics come from: a file, an environment variable or
//! a hidden prompt on the terminal.
//!
//! Password, in order of precedence: `--password-file FILE` (first line), env
//! `AGORA_PASSWORD`, then an interactive prompt (asked twice for a new key).
//! Mnemonic for `keys recover`: `--mnemonic-file FILE`, env `AGORA_MNEMONIC`,
//! then a hidden prompt. The environment variables are read here, not by the
//! argument parser, so their values never appear in `--help` or error messages.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Result, WalletError};

/// Environment variable holding the keystore password (for scripts).
pub const PASSWORD_ENV: &str = "AGORA_PASSWORD";
/// Environment variable holding the mnemonic for `keys recover`.
pub const MNEMONIC_ENV: &str = "AGORA_MNEMONIC";

/// Where the password comes from.
#[derive(Clone, Debug)]
pub enum PasswordSource {
    File(PathBuf),
    Env,
    Prompt,
}

impl PasswordSource {
    /// `--password-file`, else `AGORA_PASSWORD` if set, else the prompt.
    pub fn resolve(password_file: Option<&Path>) -> PasswordSource {
        match password_file {
            Some(p) => PasswordSource::File(p.to_owned()),
            None if std::env::var_os(PASSWORD_ENV).is_some() => PasswordSource::Env,
            None => PasswordSource::Prompt,
        }
    }

    /// The password of an existing key.
    pub fn existing(&self, key_name: &str) -> Result<Zeroizing<String>> {
        match self {
            PasswordSource::Prompt => prompt(&format!("Password for key `{key_name}`: ")),
            _ => self.non_interactive(),
        }
    }

    /// A password for a new key: prompted twice (they must match); never empty.
    pub fn new_password(&self, key_name: &str) -> Result<Zeroizing<String>> {
        let pw = match self {
            PasswordSource::Prompt => {
                let first = prompt(&format!("New password for key `{key_name}`: "))?;
                if first.is_empty() {
                    return Err(WalletError::Password("the password must not be empty".into()));
                }
                let second = prompt("Repeat the password: ")?;
                if *first != *second {
                    return Err(WalletError::Password("the passwords do not match".into()));
                }
                first
            }
            _ => self.non_interactive()?,
        };
        if pw.is_empty() {
            return Err(WalletError::Password("the password must not be empty".into()));
        }
        Ok(pw)
    }

    fn non_interactive(&self) -> Result<Zeroizing<String>> {
        match self {
            PasswordSource::File(path) => {
                let text = read_secret_file(path, "cannot read password file")?;
                Ok(Zeroizing::new(first_line(&text).to_owned()))
            }
            PasswordSource::Env => Ok(Zeroizing::new(
                std::env::var(PASSWORD_ENV)
                    .map_err(|_| WalletError::Password(format!("{PASSWORD_ENV} is not valid UTF-8")))?,
            )),
            PasswordSource::Prompt => prompt("Password: "),
        }
    }
}

/// The first line of a file's text, without its line ending.
fn first_line(text: &str) -> &str {
    text.split('\n').next().unwrap_or("").trim_end_matches('\r')
}

fn read_secret_file(path: &Path, context: &'static str) -> Result<Zeroizing<String>> {
    std::fs::read_to_string(path).map(Zeroizing::new).map_err(|e| WalletError::io(context, path, e))
}

/// Whether an interactive prompt is possible. Prompts read the terminal, not
/// stdin; when stdin is not a terminal (scripts, pipes, CI) the wallet refuses to
/// prompt instead of blocking on a terminal nobody watches.
fn can_prompt() -> bool {
    std::io::stdin().is_terminal()
}

fn prompt(text: &str) -> Result<Zeroizing<String>> {
    if !can_prompt() {
        return Err(WalletError::Password(format!(
            "no password given and no terminal to ask for one: set {PASSWORD_ENV} or use --password-file"
        )));
    }
    rpassword::prompt_password(text).map(Zeroizing::new).map_err(|e| {
        WalletError::Password(format!(
            "cannot read the password from the terminal ({e}); set {PASSWORD_ENV} or use --password-file"
        ))
    })
}

/// The mnemonic for `keys recover`: `--mnemonic-file`, else `AGORA_MNEMONIC`,
/// else a hidden prompt.
pub fn read_mnemonic(file: Option<&Path>) -> Result<Zeroizing<String>> {
    if let Some(path) = file {
        return read_secret_file(path, "cannot read mnemonic file");
    }
    if let Some(v) = std::env::var_os(MNEMONIC_ENV) {
        return v
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| WalletError::Mnemonic(format!("{MNEMONIC_ENV} is not valid UTF-8")));
    }
    if !can_prompt() {
        return Err(WalletError::Mnemonic(format!(
            "no mnemonic given and no terminal to ask for it: set {MNEMONIC_ENV} or use --mnemonic-file"
        )));
    }
    rpassword::prompt_password("Enter the mnemonic (words separated by spaces; input is hidden): ")
        .map(Zeroizing::new)
        .map_err(|e| {
            WalletError::Mnemonic(format!(
                "cannot read it from the terminal ({e}); set {MNEMONIC_ENV} or use --mnemonic-file"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_strips_line_endings() {
        assert_eq!(first_line("secret\n"), "secret");
        assert_eq!(first_line("secret\r\nignored\n"), "secret");
        assert_eq!(first_line("with spaces  "), "with spaces  ");
        assert_eq!(first_line(""), "");
    }
}
