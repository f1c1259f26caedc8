//! `/proc` inspection: whether a PID is a live postmaster or a zombie, and which processes
//! still work in a cluster's folder. Without `/proc` (not Linux) the answers are the safe
//! defaults each function states.

use std::fs;
use std::path::Path;

/// Command name and state letter of a process, from `/proc/<pid>/stat`.
fn proc_stat(pid: i64) -> Option<(String, char)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "<pid> (<comm>) <state> …"; comm may contain spaces and parentheses.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let state = stat.get(close + 1..)?.trim_start().chars().next()?;
    Some((stat.get(open + 1..close)?.to_owned(), state))
}

/// Whether a `/proc/<pid>/stat` state letter is a dead or zombie process.
fn is_dead_state(state: char) -> bool {
    matches!(state, 'Z' | 'X' | 'x')
}

/// Whether `pid` is a zombie (dead, not yet reaped by its parent).
pub(crate) fn is_zombie(pid: i64) -> bool {
    proc_stat(pid).is_some_and(|(_, state)| is_dead_state(state))
}

/// Whether `pid` is a live (not zombie) PostgreSQL process. Without `/proc`
/// (not Linux), assumes it is.
pub(crate) fn postmaster_alive(pid: i64) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return true;
    }
    proc_stat(pid).is_some_and(|(comm, state)| {
        (comm.contains("postgres") || comm.contains("postmaster")) && !is_dead_state(state)
    })
}

/// Whether a process (possibly a zombie) has this PID.
pub(crate) fn pid_exists(pid: i64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Live processes whose working folder is `dir` (PostgreSQL server
/// processes work in their data folder). Empty without `/proc`.
pub(crate) fn processes_in(dir: &Path) -> Vec<i64> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<i64> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: i64 = entry.file_name().to_str()?.parse().ok()?;
            let cwd = fs::read_link(entry.path().join("cwd")).ok()?;
            (cwd == dir).then_some(pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}
