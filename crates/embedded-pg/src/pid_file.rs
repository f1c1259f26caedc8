//! `postmaster.pid` (and the socket lock file, which has the same first line): the parts
//! plenary reads, and removing the stale ones a killed server leaves.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{EmbeddedError, Result};

/// The parts of `postmaster.pid` plenary uses.
#[derive(Debug)]
pub(crate) struct PidFile {
    /// The postmaster's PID.
    pub(crate) pid: i64,
    /// The port it listens on (names the socket file).
    pub(crate) port: Option<u16>,
    /// Its first socket folder.
    pub(crate) socket_dir: Option<PathBuf>,
}

/// `postmaster.pid`: PID, data folder, start time, port, first socket
/// folder, ….
fn parse_pid_file(text: &str) -> Option<PidFile> {
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first()?.trim().parse::<i64>().ok()?.abs();
    let port = lines.get(3).and_then(|l| l.trim().parse().ok());
    let socket_dir = lines
        .get(4)
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from);
    Some(PidFile {
        pid,
        port,
        socket_dir,
    })
}
/// Reads and parses a `postmaster.pid`-like file; `None` when it is missing or unreadable.
pub(crate) fn read(path: &Path) -> Option<PidFile> {
    parse_pid_file(&fs::read_to_string(path).ok()?)
}

/// Removes a stale file; one already gone is not an error.
pub(crate) fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EmbeddedError::Io {
            context: format!("could not remove the stale {}", path.display()),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_parsing() {
        let text = "1234\n/d/pg\n1700000000\n5432\n/d/run\n\n  5432001   163844\nready   \n";
        let pid_file = parse_pid_file(text).unwrap();
        assert_eq!(pid_file.pid, 1234);
        assert_eq!(pid_file.port, Some(5432));
        assert_eq!(pid_file.socket_dir, Some(PathBuf::from("/d/run")));
    }
}
