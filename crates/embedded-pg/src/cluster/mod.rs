//! [`EmbeddedPostgres`]: the handle on one data folder's cluster and its public lifecycle
//! (start or reuse, connection string, stop). Creating the cluster is in `init`, the running
//! server (start, reuse, readiness, stop) in `server`.

mod init;
mod server;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::unistd::{Gid, Uid};

use crate::binaries::{self, is_executable, which};
use crate::command::base_command;
use crate::conf::conninfo_value;
use crate::error::{io_err, EmbeddedError, Result};
use crate::layout::{self, socket_dir_for};
use crate::lock::lock_data_dir;
use crate::privileges::{
    as_server_user, check_reachable, check_traversable, make_traversable, server_user,
};
use crate::{PORT, SUPERUSER};
use server::Status;

/// A handle on the embedded PostgreSQL server of one data folder.
///
/// Dropping the handle does not stop the server (other processes may be using
/// it); call [`EmbeddedPostgres::stop`] for that.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    /// Canonical data folder.
    data_dir: PathBuf,
    /// `data_dir/pg`.
    pgdata: PathBuf,
    /// Folder of the Unix socket.
    socket_dir: PathBuf,
    /// Port number (names the socket file).
    port: u16,
    /// Folder with `initdb`, `pg_ctl`, ….
    bin_dir: PathBuf,
    /// User and group the server programs run as, when running as root.
    run_as: Option<(Uid, Gid)>,
    /// Whether this handle started the server (and so may stop it).
    started_by_us: bool,
}

impl EmbeddedPostgres {
    /// Finds the folder holding the PostgreSQL server binaries (`initdb`,
    /// `pg_ctl`).
    ///
    /// Tried in order: `pg_config --bindir` (if it contains `initdb`); a
    /// folder on `PATH` containing `initdb` and `pg_ctl` (following a
    /// symlinked `initdb` to its real folder when that folder has `pg_ctl`
    /// too); the highest-version `/usr/lib/postgresql/<version>/bin`
    /// (numeric order: 9.6 < 10 < 15 < 17).
    ///
    /// # Errors
    ///
    /// [`EmbeddedError::NoBinaries`] when none is found.
    pub fn locate_binaries() -> Result<PathBuf, EmbeddedError> {
        binaries::locate()
    }

    /// The data folder `plenary serve` uses when `PLENARY_DATA_DIR` is not
    /// set: `/var/lib/plenary` as root; otherwise `$XDG_DATA_HOME/plenary`
    /// (when set to an absolute path) or `$HOME/.local/share/plenary` (the
    /// home folder comes from the password database when `HOME` is unset).
    pub fn default_data_dir() -> PathBuf {
        layout::default_data_dir()
    }

    /// Makes sure a cluster exists under `data_dir/pg` (running `initdb` if it
    /// does not) and that its server is running, then makes sure the
    /// database `plenary` exists.
    ///
    /// A server that is already running (started by another plenary process
    /// or a previous run) is reused; the handle then has
    /// `started_by_us() == false` and [`stop`](Self::stop) leaves it running.
    /// A stale `postmaster.pid` left by a crash is dealt with.
    ///
    /// Blocking; call it before starting the async runtime or from
    /// `spawn_blocking`. Several processes may call it at the same time for
    /// the same `data_dir`: they are serialised by an exclusive lock on
    /// `data_dir/lock`, and all but the first reuse the server.
    ///
    /// As root, the server programs run as the `postgres` system user, which
    /// owns `data_dir/pg` and the socket folder; `data_dir` itself stays
    /// root-owned but is made traversable.
    ///
    /// # Errors
    ///
    /// [`EmbeddedError::NoBinaries`] without PostgreSQL,
    /// [`EmbeddedError::NoPostgresUser`] / [`EmbeddedError::DataDirNotAccessible`]
    /// as root, [`EmbeddedError::Command`] / [`EmbeddedError::StartFailed`]
    /// when a program fails (with its command line, stderr and the server
    /// log's end), and the other variants as documented there.
    pub fn start(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let bin_dir = Self::locate_binaries()?;
        let run_as = server_user()?;

        if let Some((uid, gid)) = run_as {
            // Refuse before creating anything when `postgres` could not
            // reach the folder anyway (`data_dir` itself, when it exists, is
            // made traversable below).
            check_reachable(data_dir, uid, gid)?;
        }
        fs::create_dir_all(data_dir).map_err(io_err(format!(
            "could not create the data folder {}",
            data_dir.display()
        )))?;
        let data_dir = fs::canonicalize(data_dir).map_err(io_err(format!(
            "could not resolve the data folder {}",
            data_dir.display()
        )))?;
        if let Some((uid, gid)) = run_as {
            make_traversable(&data_dir)?;
            check_traversable(&data_dir, uid, gid)?;
        }

        let _lock = lock_data_dir(&data_dir)?;

        let mut pg = EmbeddedPostgres {
            pgdata: data_dir.join("pg"),
            socket_dir: socket_dir_for(&data_dir, PORT),
            port: PORT,
            data_dir,
            bin_dir,
            run_as,
            started_by_us: false,
        };

        match fs::symlink_metadata(&pg.pgdata) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => pg.init()?,
            Err(e) => {
                return Err(EmbeddedError::Io {
                    context: format!("could not inspect {}", pg.pgdata.display()),
                    source: e,
                })
            }
            Ok(_) if !pg.pgdata.join("PG_VERSION").is_file() => {
                return Err(EmbeddedError::NotACluster {
                    path: pg.pgdata.clone(),
                })
            }
            Ok(_) => {}
        }
        pg.check_version()?;
        pg.check_pgdata_owner()?;

        let ready = pg.run_or_reuse().and_then(|()| pg.ensure_database());
        if let Err(e) = ready {
            if pg.started_by_us {
                // Best effort: do not leave a server nobody has a handle on.
                let _ = pg.pg_ctl_stop();
                pg.started_by_us = false;
            }
            return Err(e);
        }
        Ok(pg)
    }

    /// A libpq key=value connection string for database `dbname` over the
    /// Unix socket, accepted by tokio-postgres / diesel-async:
    /// `host=<socket_dir> port=<port> user=plenary dbname=<dbname>` (values
    /// with spaces, quotes or backslashes are single-quoted and escaped).
    pub fn connection_string(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={}",
            conninfo_value(&self.socket_dir.to_string_lossy()),
            self.port,
            conninfo_value(SUPERUSER),
            conninfo_value(dbname)
        )
    }

    /// Folder holding the server's Unix socket: `data_dir/run` when
    /// `data_dir/run/.s.PGSQL.5432` is shorter than 100 bytes (and the path
    /// has no characters that need quoting), otherwise
    /// `/tmp/plenary-<16 hex digits of a hash of data_dir>`. When an already
    /// running server is reused, the folder it announces in
    /// `postmaster.pid`.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Port number of the server (only names the socket file; no TCP port is
    /// opened).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The canonical data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The folder of the PostgreSQL binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The server log file (`data_dir/postgresql.log`).
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("postgresql.log")
    }

    /// Whether this handle started the server (so [`stop`](Self::stop) will
    /// stop it) rather than reusing a running one.
    pub fn started_by_us(&self) -> bool {
        self.started_by_us
    }

    /// Takes over a running server that its starter left behind (e.g. after the starter was
    /// killed), so that [`stop`](Self::stop) stops it.
    pub fn adopt(&mut self) {
        self.started_by_us = true;
    }

    /// Stops the server (`pg_ctl stop -m fast`) if this handle started it;
    /// does nothing otherwise. Idempotent: after a successful call the handle
    /// no longer counts as having started the server, and a server that is
    /// already stopped is not an error.
    ///
    /// # Errors
    ///
    /// [`EmbeddedError::Command`] when `pg_ctl stop` fails,
    /// [`EmbeddedError::Io`] when the lock cannot be taken.
    pub fn stop(&mut self) -> Result<(), EmbeddedError> {
        if !self.started_by_us {
            return Ok(());
        }
        let _lock = lock_data_dir(&self.data_dir)?;
        if self.live_status()? == Status::Running {
            self.pg_ctl_stop()?;
        }
        self.started_by_us = false;
        Ok(())
    }

    /// A command for a server program (`initdb`, `pg_ctl`), run as the
    /// server user.
    pub(super) fn server_command(&self, program: &str) -> Command {
        let mut cmd = base_command(&self.bin_dir.join(program));
        as_server_user(&mut cmd, self.run_as);
        cmd
    }

    /// A command for a client program (`pg_isready`, `psql`), run as the
    /// current user.
    pub(super) fn client_command(&self, program: &str) -> Result<Command> {
        let path = self.bin_dir.join(program);
        let path = if is_executable(&path) {
            path
        } else {
            which(program).ok_or_else(|| EmbeddedError::MissingTool {
                tool: program.to_owned(),
                bin_dir: self.bin_dir.clone(),
            })?
        };
        let mut cmd = base_command(&path);
        cmd.env("PGCONNECT_TIMEOUT", "10");
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use std::process::Stdio;

    use super::*;
    use crate::DATABASE;

    #[test]
    fn connection_strings() {
        let pg = EmbeddedPostgres {
            data_dir: PathBuf::from("/d"),
            pgdata: PathBuf::from("/d/pg"),
            socket_dir: PathBuf::from("/d/run"),
            port: PORT,
            bin_dir: PathBuf::from("/usr/lib/postgresql/15/bin"),
            run_as: None,
            started_by_us: false,
        };
        assert_eq!(
            pg.connection_string("plenary"),
            "host=/d/run port=5432 user=plenary dbname=plenary"
        );
        assert_eq!(
            pg.connection_string("it's a db"),
            r"host=/d/run port=5432 user=plenary dbname='it\'s a db'"
        );
    }

    /// Stops a test cluster and removes its folder even when a test fails.
    struct Cleanup(PathBuf);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            let pgdata = self.0.join("pg");
            if pgdata.join("postmaster.pid").exists() {
                if let Ok(bin_dir) = EmbeddedPostgres::locate_binaries() {
                    let run_as = server_user().ok().flatten();
                    let mut cmd = base_command(&bin_dir.join("pg_ctl"));
                    let _ = as_server_user(&mut cmd, run_as)
                        .arg("stop")
                        .arg("-D")
                        .arg(&pgdata)
                        .args(["-m", "immediate", "-w"])
                        .output();
                }
            }
            let socket_dir = socket_dir_for(&self.0, PORT);
            let _ = fs::remove_dir_all(&self.0);
            if socket_dir.starts_with("/tmp/plenary-") {
                let _ = fs::remove_dir_all(socket_dir);
            }
        }
    }

    /// Whether the cluster accepts connections to the database `plenary`.
    fn pg_isready(pg: &EmbeddedPostgres) -> bool {
        let mut cmd = pg.client_command("pg_isready").unwrap();
        cmd.arg("-h").arg(pg.socket_dir()).args([
            "-p",
            &pg.port().to_string(),
            "-U",
            SUPERUSER,
            "-d",
            DATABASE,
        ]);
        cmd.stdout(Stdio::null());
        cmd.status().unwrap().success()
    }

    /// A fresh data folder for a test cluster, removed (its server stopped) when the
    /// [`Cleanup`] is dropped; `None` without PostgreSQL binaries.
    fn unit_cluster_dir() -> Option<(PathBuf, Cleanup)> {
        EmbeddedPostgres::locate_binaries().ok()?;
        let data_dir = PathBuf::from(format!(
            "/tmp/plenary-embedded-unit-{:016x}",
            rand::random::<u64>()
        ));
        Some((data_dir.clone(), Cleanup(data_dir)))
    }

    #[test]
    fn start_stop_and_reuse_a_cluster() {
        let Some((data_dir, _cleanup)) = unit_cluster_dir() else {
            eprintln!("skipped: no PostgreSQL binaries");
            return;
        };

        let mut pg = EmbeddedPostgres::start(&data_dir).unwrap();
        assert!(pg.started_by_us());
        assert_eq!(pg.socket_dir(), data_dir.join("run"));
        assert_eq!(pg.port(), PORT);
        assert!(pg_isready(&pg));
        assert_eq!(
            pg.connection_string("plenary"),
            format!(
                "host={} port=5432 user=plenary dbname=plenary",
                data_dir.join("run").display()
            )
        );

        // A second handle (another process, in real life) reuses the server
        // and does not stop it.
        let mut other = EmbeddedPostgres::start(&data_dir).unwrap();
        assert!(!other.started_by_us());
        other.stop().unwrap();
        assert!(pg_isready(&pg));

        pg.stop().unwrap();
        assert!(!pg.started_by_us());
        assert!(!pg_isready(&pg));
        pg.stop().unwrap(); // idempotent

        // Start the existing cluster again.
        let mut again = EmbeddedPostgres::start(&data_dir).unwrap();
        assert!(again.started_by_us());
        assert!(pg_isready(&again));
        again.stop().unwrap();
        assert!(!pg_isready(&again));
    }

    #[test]
    fn concurrent_starts_share_one_server() {
        let Some((data_dir, _cleanup)) = unit_cluster_dir() else {
            eprintln!("skipped: no PostgreSQL binaries");
            return;
        };

        let handles: Vec<_> = (0..3)
            .map(|_| {
                let data_dir = data_dir.clone();
                std::thread::spawn(move || EmbeddedPostgres::start(&data_dir))
            })
            .collect();
        let mut servers: Vec<EmbeddedPostgres> = handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect();
        assert_eq!(servers.iter().filter(|pg| pg.started_by_us()).count(), 1);
        assert!(servers.iter().all(pg_isready));
        for pg in &mut servers {
            pg.stop().unwrap();
        }
        assert!(!pg_isready(&servers[0]));
    }
}
