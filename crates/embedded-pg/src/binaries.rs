//! Finding the PostgreSQL server binaries (`initdb`, `pg_ctl`) and telling their major
//! version.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::command::{base_command, describe, run_checked};
use crate::error::{EmbeddedError, Result};

/// Where the Debian/Ubuntu packages install each major version's binaries
/// (`<root>/<version>/bin`).
pub(crate) const VERSIONED_ROOT: &str = "/usr/lib/postgresql";

/// The folder holding the server binaries: `pg_config --bindir` (if it
/// contains `initdb`); a folder on `PATH` containing `initdb` and `pg_ctl`
/// (following a symlinked `initdb` to its real folder when that folder has
/// `pg_ctl` too); the highest-version `/usr/lib/postgresql/<version>/bin`.
pub(crate) fn locate() -> Result<PathBuf> {
    if let Some(dir) = bindir_from_pg_config() {
        if is_server_bindir(&dir) {
            return Ok(dir);
        }
    }
    if let Some(dir) = bindir_from_path() {
        return Ok(dir);
    }
    if let Some(dir) = highest_versioned_bindir(Path::new(VERSIONED_ROOT)) {
        return Ok(dir);
    }
    Err(EmbeddedError::NoBinaries)
}

/// Major version (`15`, `9.6`) of the binaries in `bin_dir`, from
/// `pg_ctl --version`.
pub(crate) fn binaries_major(bin_dir: &Path) -> Result<String> {
    let mut cmd = base_command(&bin_dir.join("pg_ctl"));
    cmd.arg("--version");
    let out = run_checked(&mut cmd)?;
    let text = String::from_utf8_lossy(&out.stdout);
    major_version(&text).ok_or_else(|| EmbeddedError::Command {
        cmd: describe(&cmd),
        status: "unexpected output".to_owned(),
        stderr: text.trim().to_owned(),
    })
}

/// Whether `path` is a file someone may execute.
pub(crate) fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `dir` has both `initdb` and `pg_ctl`.
pub(crate) fn is_server_bindir(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl"))
}

/// First `name` on `PATH` that is executable.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// `pg_config --bindir`, when `pg_config` is on `PATH` and answers.
fn bindir_from_pg_config() -> Option<PathBuf> {
    let pg_config = which("pg_config")?;
    let out = base_command(&pg_config)
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// The first folder on `PATH` with the server binaries.
fn bindir_from_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let initdb = dir.join("initdb");
        if !is_executable(&initdb) {
            continue;
        }
        // /usr/local/bin/initdb may be a symlink into the real bin folder,
        // which also has pg_isready, psql, ….
        if let Some(real) = fs::canonicalize(&initdb)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            if is_server_bindir(&real) {
                return Some(real);
            }
        }
        if is_server_bindir(&dir) {
            return Some(dir);
        }
    }
    None
}

/// Numeric components of a version folder name (`9.6` → `[9, 6]`).
fn version_key(name: &str) -> Option<Vec<u64>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// `<root>/<version>/bin` with the highest version that has the server
/// binaries.
fn highest_versioned_bindir(root: &Path) -> Option<PathBuf> {
    fs::read_dir(root)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let key = version_key(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            is_server_bindir(&bin).then_some((key, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// Major version from `pg_ctl --version` output or a version number:
/// `pg_ctl (PostgreSQL) 15.14 (Debian …)` → `15`; `9.6.24` → `9.6`;
/// `17devel` → `17`.
fn major_version(text: &str) -> Option<String> {
    let version = text
        .split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = version.split('.').map(|part| {
        part.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    });
    let major = parts.next()?;
    let major_num: u32 = major.parse().ok()?;
    if major_num >= 10 {
        return Some(major);
    }
    let minor = parts.next().filter(|m| !m.is_empty())?;
    Some(format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_binaries_finds_a_server_bindir() {
        let Ok(dir) = locate() else {
            if Path::new("/usr/lib/postgresql").exists() {
                panic!("PostgreSQL is installed under /usr/lib/postgresql but was not found");
            }
            return;
        };
        assert!(is_server_bindir(&dir), "{}", dir.display());
        if is_server_bindir(Path::new("/usr/lib/postgresql/15/bin"))
            && highest_versioned_bindir(Path::new("/usr/lib/postgresql"))
                == Some(PathBuf::from("/usr/lib/postgresql/15/bin"))
        {
            assert_eq!(
                fs::canonicalize(&dir).unwrap(),
                PathBuf::from("/usr/lib/postgresql/15/bin")
            );
        }
    }

    #[test]
    fn highest_version_sorts_numerically() {
        let root =
            std::env::temp_dir().join(format!("plenary-bins-{:016x}", rand::random::<u64>()));
        for (version, complete) in [
            ("9.6", true),
            ("10", true),
            ("15", true),
            ("17", true),
            ("18", false),
            ("notaversion", true),
        ] {
            let bin = root.join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            let tools: &[&str] = if complete {
                &["initdb", "pg_ctl"]
            } else {
                &["initdb"]
            };
            for tool in tools {
                let path = bin.join(tool);
                fs::write(&path, "#!/bin/sh\n").unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        assert_eq!(
            highest_versioned_bindir(&root),
            Some(root.join("17").join("bin"))
        );
        fs::remove_dir_all(root.join("17")).unwrap();
        fs::remove_dir_all(root.join("15")).unwrap();
        assert_eq!(
            highest_versioned_bindir(&root),
            Some(root.join("10").join("bin"))
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn major_versions() {
        for (text, major) in [
            (
                "pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)",
                Some("15"),
            ),
            ("pg_ctl (PostgreSQL) 9.6.24", Some("9.6")),
            ("pg_ctl (PostgreSQL) 17devel", Some("17")),
            ("pg_ctl (PostgreSQL) 16beta1", Some("16")),
            ("15", Some("15")),
            ("nothing", None),
        ] {
            assert_eq!(major_version(text).as_deref(), major, "{text}");
        }
    }
}
