//! Where things live: the default data folder, and the socket folder for a data folder
//! (`data_dir/run`, or a short `/tmp/plenary-<hash>` when that path is too long).

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::unistd::{geteuid, User};

/// Socket file paths (`<dir>/.s.PGSQL.<port>`) must be shorter than this.
const SOCKET_PATH_LIMIT: usize = 100;

/// The data folder `plenary serve` uses when `PLENARY_DATA_DIR` is not set
/// (see [`crate::EmbeddedPostgres::default_data_dir`]).
pub(crate) fn default_data_dir() -> PathBuf {
    if geteuid().is_root() {
        return PathBuf::from("/var/lib/plenary");
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME") {
        let xdg = PathBuf::from(xdg);
        if xdg.is_absolute() {
            return xdg.join("plenary");
        }
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            User::from_uid(geteuid())
                .ok()
                .flatten()
                .map(|user| user.dir)
        })
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/plenary")
}

/// 64-bit FNV-1a: a hash that is the same in every build and process.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether `dir` may hold the socket: `<dir>/.s.PGSQL.<port>` shorter than
/// [`SOCKET_PATH_LIMIT`] bytes, UTF-8, and free of characters that need
/// quoting in settings and connection strings.
fn socket_dir_usable(dir: &Path, port: u16) -> bool {
    let Some(text) = dir.to_str() else {
        return false;
    };
    let socket_len = text.len() + "/.s.PGSQL.".len() + port.to_string().len();
    socket_len < SOCKET_PATH_LIMIT
        && !text.chars().any(|c| {
            matches!(c, ',' | '\'' | '"' | '\\' | '=') || c.is_whitespace() || c.is_control()
        })
}

/// The socket folder for `data_dir`: `data_dir/run`, or
/// `/tmp/plenary-<16 hex>` when that is not usable.
pub(crate) fn socket_dir_for(data_dir: &Path, port: u16) -> PathBuf {
    let run = data_dir.join("run");
    if socket_dir_usable(&run, port) {
        run
    } else {
        PathBuf::from(format!(
            "/tmp/plenary-{:016x}",
            fnv1a64(data_dir.as_os_str().as_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PORT;

    #[test]
    fn socket_dir_short_path_uses_run() {
        let data_dir = Path::new("/var/lib/plenary");
        assert_eq!(socket_dir_for(data_dir, PORT), data_dir.join("run"));
    }

    #[test]
    fn socket_dir_length_limit() {
        // "/x…x/run/.s.PGSQL.5432": 1 + n + 4 + 14 bytes.
        let at_limit = format!("/{}", "x".repeat(SOCKET_PATH_LIMIT - 1 - 4 - 14 - 1));
        let socket = Path::new(&at_limit).join("run/.s.PGSQL.5432");
        assert_eq!(socket.as_os_str().len(), SOCKET_PATH_LIMIT - 1);
        assert_eq!(
            socket_dir_for(Path::new(&at_limit), PORT),
            Path::new(&at_limit).join("run")
        );

        let too_long = format!("{at_limit}x");
        let dir = socket_dir_for(Path::new(&too_long), PORT);
        let text = dir.to_str().unwrap();
        assert!(text.starts_with("/tmp/plenary-"), "{text}");
        assert_eq!(text.len(), "/tmp/plenary-".len() + 16);
        assert!(text["/tmp/plenary-".len()..]
            .chars()
            .all(|c| c.is_ascii_hexdigit()));
        // Deterministic, and different for different data folders.
        assert_eq!(dir, socket_dir_for(Path::new(&too_long), PORT));
        assert_ne!(
            dir,
            socket_dir_for(Path::new(&format!("{too_long}y")), PORT)
        );
        assert!(dir.join(".s.PGSQL.5432").as_os_str().len() < SOCKET_PATH_LIMIT);
    }

    #[test]
    fn socket_dir_avoids_characters_needing_quotes() {
        for data_dir in ["/srv/my data", "/srv/a,b", "/srv/it's"] {
            let dir = socket_dir_for(Path::new(data_dir), PORT);
            assert!(dir.starts_with("/tmp"), "{data_dir} -> {}", dir.display());
        }
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
