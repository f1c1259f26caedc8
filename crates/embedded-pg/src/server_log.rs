//! The server log (`data_dir/postgresql.log`): what the server wrote since an offset, and its
//! last lines, for the error of a failed start.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The log file's text from `offset` on (best effort).
pub(crate) fn read_log_since(path: &Path, offset: u64) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let offset = if offset > len { 0 } else { offset };
    // At most the last 64 KiB.
    let offset = offset.max(len.saturating_sub(64 * 1024));
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(offset)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The last `count` lines of `text`.
pub(crate) fn tail_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}
