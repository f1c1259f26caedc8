//! Running the PostgreSQL programs: a neutral environment and working folder, the command
//! line for messages, and a failed run turned into [`EmbeddedError::Command`].

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::error::{io_err, EmbeddedError, Result};

/// Environment variables that would change what the PostgreSQL programs do.
const PG_ENV_VARS: &[&str] = &[
    "PGDATA",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGOPTIONS",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSSLMODE",
    "PGTARGETSESSIONATTRS",
    "PGCONNECT_TIMEOUT",
    "PGCLIENTENCODING",
];

/// A command with a neutral environment and working folder.
pub(crate) fn base_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    // The server user may not be allowed into the caller's working folder.
    cmd.current_dir("/")
        .stdin(Stdio::null())
        .env("LC_ALL", "C")
        .env("LANG", "C");
    for var in PG_ENV_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// The command line, for messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        text.push(' ');
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
            text.push('\'');
            text.push_str(&arg.replace('\'', r"'\''"));
            text.push('\'');
        } else {
            text.push_str(&arg);
        }
    }
    text
}

/// Runs `cmd` to its end, capturing its output.
pub(crate) fn run(cmd: &mut Command) -> Result<Output> {
    tracing::debug!(cmd = %describe(cmd), "running");
    cmd.output()
        .map_err(io_err(format!("could not run `{}`", describe(cmd))))
}

/// [`EmbeddedError::Command`] for a run that failed: its command line, exit status and
/// standard error (standard output when stderr is empty).
pub(crate) fn command_error(cmd: &Command, out: &Output) -> EmbeddedError {
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let stderr = if stderr.is_empty() {
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    } else {
        stderr
    };
    EmbeddedError::Command {
        cmd: describe(cmd),
        status: out.status.to_string(),
        stderr,
    }
}

/// Runs `cmd`; a failure is an error.
pub(crate) fn run_checked(cmd: &mut Command) -> Result<Output> {
    let out = run(cmd)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(command_error(cmd, &out))
    }
}
