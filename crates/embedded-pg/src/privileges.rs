//! Privileges: the user the server programs run as (`postgres` when plenary runs as root,
//! since PostgreSQL refuses to run as root), and the folders that user must own or enter.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::unistd::{chown, geteuid, Gid, Uid, User};

use crate::error::{io_err, sys_err, EmbeddedError, Result};

/// The user and group the server programs run as: `postgres` when running
/// as root, the current user (`None`) otherwise.
pub(crate) fn server_user() -> Result<Option<(Uid, Gid)>> {
    if !geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some((user.uid, user.gid))),
        Ok(None) => Err(EmbeddedError::NoPostgresUser),
        Err(e) => Err(EmbeddedError::Sys {
            context: "could not look up the `postgres` system user".to_owned(),
            source: e,
        }),
    }
}

/// Gives group and others the right to enter `dir` (as root, so that the
/// `postgres` user reaches `dir/pg`).
pub(crate) fn make_traversable(dir: &Path) -> Result<()> {
    let meta = fs::metadata(dir).map_err(io_err(format!("could not inspect {}", dir.display())))?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o011 != 0o011 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o011))
            .map_err(io_err(format!("could not chmod {}", dir.display())))?;
    }
    Ok(())
}

/// Whether a process with `uid` and only the group `gid` may enter a folder
/// with these owner, group and mode bits.
fn may_enter(uid: Uid, gid: Gid, owner: u32, group: u32, mode: u32) -> bool {
    if owner == uid.as_raw() {
        mode & 0o100 != 0
    } else if group == gid.as_raw() {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Checks that `uid`/`gid` may enter every folder from `/` down to
/// `data_dir`.
pub(crate) fn check_traversable(data_dir: &Path, uid: Uid, gid: Gid) -> Result<()> {
    let mut chain: Vec<&Path> = data_dir.ancestors().collect();
    chain.reverse();
    for dir in chain {
        let meta =
            fs::metadata(dir).map_err(io_err(format!("could not inspect {}", dir.display())))?;
        if !may_enter(uid, gid, meta.uid(), meta.gid(), meta.mode()) {
            return Err(EmbeddedError::DataDirNotAccessible {
                data_dir: data_dir.to_path_buf(),
                blocked: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Creates (or checks) a folder with mode 0700 owned by the server user.
/// Refuses symlinks and folders owned by some other user.
pub(crate) fn ensure_private_dir(dir: &Path, run_as: Option<(Uid, Gid)>) -> Result<()> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(EmbeddedError::Io {
                context: format!("could not create {}", dir.display()),
                source: e,
            })
        }
    }
    let unsafe_dir = |reason: String| EmbeddedError::UnsafeSocketDir {
        path: dir.to_path_buf(),
        reason,
    };
    let meta = fs::symlink_metadata(dir)
        .map_err(io_err(format!("could not inspect {}", dir.display())))?;
    if !meta.file_type().is_dir() {
        return Err(unsafe_dir(
            "it is not a folder (or is a symlink); remove it".to_owned(),
        ));
    }
    let euid = geteuid();
    let (uid, gid) = run_as.unwrap_or((euid, nix::unistd::getegid()));
    if meta.uid() != uid.as_raw() {
        // Only take over folders we (root) made; never one another user
        // prepared.
        if euid.is_root() && meta.uid() == 0 {
            chown(dir, Some(uid), Some(gid))
                .map_err(sys_err(format!("could not chown {}", dir.display())))?;
        } else {
            return Err(unsafe_dir(format!(
                "it is owned by uid {}, not by uid {}; remove it",
                meta.uid(),
                uid
            )));
        }
    }
    if meta.permissions().mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("could not chmod {}", dir.display())))?;
    }
    Ok(())
}

/// Makes `cmd` run as the server user when there is one (as root).
pub(crate) fn as_server_user(cmd: &mut Command, run_as: Option<(Uid, Gid)>) -> &mut Command {
    if let Some((uid, gid)) = run_as {
        // std drops the supplementary groups (setgroups(0)) when it
        // changes the uid of a root process.
        cmd.uid(uid.as_raw()).gid(gid.as_raw());
    }
    cmd
}

/// Refuses, before anything is created, a `data_dir` the server user could
/// not reach: checks the deepest folder on the way that exists (when it is
/// not `data_dir` itself, which is made traversable once it exists).
pub(crate) fn check_reachable(data_dir: &Path, uid: Uid, gid: Gid) -> Result<()> {
    let existing = data_dir.ancestors().find(|dir| dir.exists());
    if let Some(existing) = existing.filter(|dir| *dir != data_dir) {
        if let Ok(existing) = fs::canonicalize(existing) {
            if let Err(EmbeddedError::DataDirNotAccessible { blocked, .. }) =
                check_traversable(&existing, uid, gid)
            {
                return Err(EmbeddedError::DataDirNotAccessible {
                    data_dir: data_dir.to_path_buf(),
                    blocked,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entering_folders() {
        let (uid, gid) = (Uid::from_raw(101), Gid::from_raw(104));
        assert!(may_enter(uid, gid, 0, 0, 0o755));
        assert!(!may_enter(uid, gid, 0, 0, 0o700));
        assert!(may_enter(uid, gid, 0, 104, 0o710));
        assert!(may_enter(uid, gid, 101, 0, 0o700));
        assert!(!may_enter(uid, gid, 101, 0, 0o077));
    }
}
