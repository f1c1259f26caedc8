//! A private PostgreSQL cluster that plenary initialises, starts, reuses and
//! stops by itself.
//!
//! Layout under the data folder (`data_dir`):
//!
//! * `data_dir/pg` – the cluster (`PGDATA`), mode 0700, owned by the user the
//!   server runs as;
//! * `data_dir/lock` – exclusive lock held while a process initialises,
//!   starts or stops the cluster;
//! * `data_dir/postgresql.log` – the server log (`pg_ctl -l`);
//! * `data_dir/run` – the Unix socket folder, or `/tmp/plenary-<16 hex>` when
//!   the socket path would be too long (see [`EmbeddedPostgres::socket_dir`]).
//!
//! The server listens on no TCP address at all (`listen_addresses = ''`); it
//! is reachable only through the Unix socket, whose folder has mode 0700. The
//! superuser is `plenary` with `trust` authentication, and the database
//! `plenary` is created automatically.
//!
//! PostgreSQL refuses to run as root: when plenary runs as root, the server
//! programs (`initdb`, `pg_ctl`) run as the `postgres` system user.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::unistd::{chown, geteuid, Gid, Uid, User};

/// Name of the cluster's superuser (the role every connection uses).
pub const SUPERUSER: &str = "plenary";
/// Name of the database created in a new cluster.
pub const DATABASE: &str = "plenary";
/// Port number of the embedded server. It only names the socket file
/// (`.s.PGSQL.5432`) in a private folder; no TCP port is opened.
pub const PORT: u16 = 5432;

/// Socket file paths (`<dir>/.s.PGSQL.<port>`) must be shorter than this.
const SOCKET_PATH_LIMIT: usize = 100;
/// Seconds `pg_ctl start`/`stop` wait for the server.
const PG_CTL_TIMEOUT_SECS: u64 = 60;
/// How long to wait for a running server to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How many times `pg_ctl start` is tried when the previous postmaster's
/// children still hold its shared memory (after `kill -9` of the postmaster).
const START_ATTEMPTS: u32 = 10;
/// How long to wait for the processes of a dead server to go away.
const STALE_WAIT: Duration = Duration::from_secs(10);
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

/// Errors from initialising, starting or stopping the embedded PostgreSQL
/// server. Every message says what failed and, where there is one, what the
/// user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No folder with `initdb` and `pg_ctl` was found.
    #[error(
        "PostgreSQL server binaries not found (looked at `pg_config --bindir`, PATH and \
         /usr/lib/postgresql/*/bin): install PostgreSQL server binaries (Debian: `apt install \
         postgresql`), put `pg_config`/`initdb` on PATH, or set DATABASE_URL"
    )]
    NoBinaries,

    /// A PostgreSQL client program (`pg_isready`, `psql`) is missing.
    #[error(
        "PostgreSQL program `{tool}` not found in {} nor on PATH: install the PostgreSQL \
         client programs (Debian: `apt install postgresql-client`), or set DATABASE_URL",
        bin_dir.display()
    )]
    MissingTool {
        /// Program name.
        tool: String,
        /// The server binaries folder that was searched first.
        bin_dir: PathBuf,
    },

    /// A file system operation or starting a program failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: io::Error,
    },

    /// A system call (user lookup, chown, …) failed.
    #[error("{context}: {source}")]
    Sys {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: nix::Error,
    },

    /// A PostgreSQL program exited unsuccessfully.
    #[error("`{cmd}` failed ({status}): {stderr}")]
    Command {
        /// The command line.
        cmd: String,
        /// Its exit status.
        status: String,
        /// Its standard error (or standard output when stderr was empty).
        stderr: String,
    },

    /// `pg_ctl start` failed; includes the end of the server log.
    #[error(
        "could not start PostgreSQL: `{cmd}` failed ({status}): {stderr}\n\
         --- end of the server log {} ---\n{log_tail}",
        log_file.display()
    )]
    StartFailed {
        /// The command line.
        cmd: String,
        /// Its exit status.
        status: String,
        /// Its standard error (or standard output when stderr was empty).
        stderr: String,
        /// The server log file.
        log_file: PathBuf,
        /// The last lines the server wrote to it.
        log_tail: String,
    },

    /// Running as root, but there is no `postgres` user to run the server as.
    #[error(
        "running as root, but there is no `postgres` system user to run the embedded \
         PostgreSQL server as (PostgreSQL refuses to run as root): create that user \
         (Debian: `apt install postgresql` does), run plenary as a normal user, or set \
         DATABASE_URL to use an existing PostgreSQL server"
    )]
    NoPostgresUser,

    /// Running as root, and the `postgres` user cannot reach the data folder.
    #[error(
        "the embedded PostgreSQL server runs as the `postgres` system user, which cannot \
         enter {} (on the way to the data folder {}): set PLENARY_DATA_DIR to a folder \
         such as /var/lib/plenary, or set DATABASE_URL",
        blocked.display(),
        data_dir.display()
    )]
    DataDirNotAccessible {
        /// The data folder.
        data_dir: PathBuf,
        /// The first folder on the way that `postgres` may not enter.
        blocked: PathBuf,
    },

    /// `data_dir/pg` exists but holds no PostgreSQL cluster.
    #[error(
        "{} exists but is not a PostgreSQL cluster (it has no PG_VERSION file): move it \
         away, or set PLENARY_DATA_DIR to another folder",
        path.display()
    )]
    NotACluster {
        /// The `pg` folder.
        path: PathBuf,
    },

    /// The cluster was created by another major version than the binaries.
    #[error(
        "the cluster in {} was created by PostgreSQL {cluster_version}, but the server \
         binaries in {} are PostgreSQL {binaries_version}: install the PostgreSQL \
         {cluster_version} server binaries, or dump the data and remove the cluster",
        pgdata.display(),
        bin_dir.display()
    )]
    VersionMismatch {
        /// The cluster folder.
        pgdata: PathBuf,
        /// Major version in `PG_VERSION`.
        cluster_version: String,
        /// The binaries folder.
        bin_dir: PathBuf,
        /// Major version of the binaries.
        binaries_version: String,
    },

    /// A folder is owned by a user other than the one the server runs as.
    #[error(
        "{} is owned by uid {owner}, but the PostgreSQL server runs as uid {expected}: fix \
         its ownership, or set PLENARY_DATA_DIR to another folder",
        path.display()
    )]
    WrongOwner {
        /// The folder.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The user the server runs as.
        expected: u32,
    },

    /// The socket folder exists but cannot be used safely.
    #[error("cannot use {} as the PostgreSQL socket folder: {reason}", path.display())]
    UnsafeSocketDir {
        /// The socket folder.
        path: PathBuf,
        /// Why not.
        reason: String,
    },

    /// The postmaster is gone but other processes of that server still run.
    #[error(
        "the PostgreSQL server of {} was killed, but some of its processes still run \
         (PIDs {pids:?}): wait for them to finish or end them (`kill <PID>`), then retry",
        pgdata.display()
    )]
    OldServerProcesses {
        /// The cluster folder.
        pgdata: PathBuf,
        /// The processes still working in it.
        pids: Vec<i64>,
    },

    /// The server did not come to accept connections.
    #[error(
        "the PostgreSQL server of {} does not accept connections on socket folder {} port \
         {port}: {detail}; see the server log {}",
        pgdata.display(),
        socket_dir.display(),
        log_file.display()
    )]
    NotReady {
        /// The cluster folder.
        pgdata: PathBuf,
        /// The socket folder.
        socket_dir: PathBuf,
        /// The port.
        port: u16,
        /// What went wrong.
        detail: String,
        /// The server log file.
        log_file: PathBuf,
    },
}

/// Shorthand for this module's results.
type Result<T, E = EmbeddedError> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

fn sys_err(context: impl Into<String>) -> impl FnOnce(nix::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Sys { context, source }
}

/// Whether the server answered `pg_ctl status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Running,
    Stopped,
}

/// Outcome of waiting for the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ready {
    /// It accepts connections.
    Yes,
    /// The postmaster exited (or its `postmaster.pid` is gone).
    Died,
}

/// The parts of `postmaster.pid` plenary uses.
#[derive(Debug)]
struct PidFile {
    pid: i64,
    port: Option<u16>,
    socket_dir: Option<PathBuf>,
}

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
        if let Some(dir) = bindir_from_pg_config() {
            if is_server_bindir(&dir) {
                return Ok(dir);
            }
        }
        if let Some(dir) = bindir_from_path() {
            return Ok(dir);
        }
        if let Some(dir) = highest_versioned_bindir(Path::new("/usr/lib/postgresql")) {
            return Ok(dir);
        }
        Err(EmbeddedError::NoBinaries)
    }

    /// The data folder `plenary serve` uses when `PLENARY_DATA_DIR` is not
    /// set: `/var/lib/plenary` as root; otherwise `$XDG_DATA_HOME/plenary`
    /// (when set to an absolute path) or `$HOME/.local/share/plenary` (the
    /// home folder comes from the password database when `HOME` is unset).
    pub fn default_data_dir() -> PathBuf {
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

    // ----------------------------------------------------------------------

    /// A command for a server program (`initdb`, `pg_ctl`), run as the
    /// server user.
    fn server_command(&self, program: &str) -> Command {
        let mut cmd = base_command(&self.bin_dir.join(program));
        if let Some((uid, gid)) = self.run_as {
            // std drops the supplementary groups (setgroups(0)) when it
            // changes the uid of a root process.
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
        }
        cmd
    }

    /// A command for a client program (`pg_isready`, `psql`), run as the
    /// current user.
    fn client_command(&self, program: &str) -> Result<Command> {
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

    /// Creates the cluster: `initdb` into `data_dir/pg.initdb`, adds the
    /// plenary settings include, then renames it to `data_dir/pg` (so an
    /// interrupted `initdb` never leaves a half-made `pg`).
    fn init(&mut self) -> Result<()> {
        let staging = self.data_dir.join("pg.initdb");
        tracing::info!(pgdata = %self.pgdata.display(), "initialising the embedded PostgreSQL cluster");
        if fs::symlink_metadata(&staging).is_ok() {
            fs::remove_dir_all(&staging).map_err(io_err(format!(
                "could not remove the leftover {}",
                staging.display()
            )))?;
        }
        if let Some((uid, gid)) = self.run_as {
            // initdb (as postgres) cannot create folders in the root-owned
            // data folder: create it, and let initdb fill it.
            DirBuilder::new()
                .mode(0o700)
                .create(&staging)
                .map_err(io_err(format!("could not create {}", staging.display())))?;
            chown(&staging, Some(uid), Some(gid))
                .map_err(sys_err(format!("could not chown {}", staging.display())))?;
            fs::set_permissions(&staging, fs::Permissions::from_mode(0o700))
                .map_err(io_err(format!("could not chmod {}", staging.display())))?;
        }

        let mut help = self.server_command("initdb");
        help.arg("--help");
        let help = run_checked(&mut help)?;
        let no_instructions = String::from_utf8_lossy(&help.stdout).contains("--no-instructions");

        let mut cmd = self.server_command("initdb");
        cmd.arg("-D").arg(&staging).args([
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        if no_instructions {
            cmd.arg("--no-instructions");
        }
        run_checked(&mut cmd)?;

        let conf = staging.join("postgresql.conf");
        let mut file = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(io_err(format!("could not open {}", conf.display())))?;
        file.write_all(
            b"\n# Added by plenary: settings of the embedded server (rewritten on every start).\n\
              include_if_exists = 'plenary.conf'\n",
        )
        .map_err(io_err(format!("could not write {}", conf.display())))?;
        drop(file);

        fs::rename(&staging, &self.pgdata).map_err(io_err(format!(
            "could not rename {} to {}",
            staging.display(),
            self.pgdata.display()
        )))?;
        Ok(())
    }

    /// Makes sure the binaries can run the cluster; switches to
    /// `/usr/lib/postgresql/<cluster version>/bin` when that is needed and
    /// installed.
    fn check_version(&mut self) -> Result<()> {
        let version_file = self.pgdata.join("PG_VERSION");
        let cluster_version = fs::read_to_string(&version_file)
            .map_err(io_err(format!("could not read {}", version_file.display())))?
            .trim()
            .to_owned();
        let binaries_version = self.binaries_major(&self.bin_dir)?;
        if cluster_version == binaries_version {
            return Ok(());
        }
        let alternative = Path::new("/usr/lib/postgresql")
            .join(&cluster_version)
            .join("bin");
        if is_server_bindir(&alternative)
            && self.binaries_major(&alternative).ok().as_deref() == Some(cluster_version.as_str())
        {
            tracing::info!(bin_dir = %alternative.display(), "using the PostgreSQL binaries matching the cluster version");
            self.bin_dir = alternative;
            return Ok(());
        }
        Err(EmbeddedError::VersionMismatch {
            pgdata: self.pgdata.clone(),
            cluster_version,
            bin_dir: self.bin_dir.clone(),
            binaries_version,
        })
    }

    /// Major version (`15`, `9.6`) of the binaries in `bin_dir`.
    fn binaries_major(&self, bin_dir: &Path) -> Result<String> {
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

    /// `data_dir/pg` must belong to the user the server runs as.
    fn check_pgdata_owner(&self) -> Result<()> {
        let expected = self.run_as.map_or_else(geteuid, |(uid, _)| uid).as_raw();
        let meta = fs::metadata(&self.pgdata).map_err(io_err(format!(
            "could not inspect {}",
            self.pgdata.display()
        )))?;
        if meta.uid() != expected {
            return Err(EmbeddedError::WrongOwner {
                path: self.pgdata.clone(),
                owner: meta.uid(),
                expected,
            });
        }
        Ok(())
    }

    /// `pg_ctl status`.
    fn status(&self) -> Result<Status> {
        let mut cmd = self.server_command("pg_ctl");
        cmd.arg("status").arg("-D").arg(&self.pgdata);
        let out = run(&mut cmd)?;
        match out.status.code() {
            Some(0) => Ok(Status::Running),
            Some(3) => Ok(Status::Stopped),
            _ => Err(command_error(&cmd, &out)),
        }
    }

    fn read_pid_file(&self) -> Option<PidFile> {
        let text = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        parse_pid_file(&text)
    }

    /// Reuses the running server, or starts it; then waits until it accepts
    /// connections. A server that dies while being reused is started again.
    fn run_or_reuse(&mut self) -> Result<()> {
        let mut attempt = 1;
        loop {
            if self.live_status()? == Status::Stopped {
                self.start_server()?;
                self.started_by_us = true;
                return match self.wait_ready()? {
                    Ready::Yes => Ok(()),
                    Ready::Died => Err(EmbeddedError::NotReady {
                        pgdata: self.pgdata.clone(),
                        socket_dir: self.socket_dir.clone(),
                        port: self.port,
                        detail: "the server exited right after starting".to_owned(),
                        log_file: self.log_file(),
                    }),
                };
            }
            tracing::info!(pgdata = %self.pgdata.display(), "reusing the running embedded PostgreSQL server");
            self.adopt_pid_file();
            match self.wait_ready()? {
                Ready::Yes => return Ok(()),
                Ready::Died if attempt < 3 => attempt += 1,
                Ready::Died => {
                    return Err(EmbeddedError::NotReady {
                        pgdata: self.pgdata.clone(),
                        socket_dir: self.socket_dir.clone(),
                        port: self.port,
                        detail: "the server keeps exiting".to_owned(),
                        log_file: self.log_file(),
                    })
                }
            }
        }
    }

    /// `pg_ctl status`, corrected for a stale `postmaster.pid`: `pg_ctl`
    /// only checks that its PID exists, which is also true of a zombie
    /// (a postmaster killed with `kill -9` and not yet reaped) and of an
    /// unrelated process that got the same PID after a restart.
    ///
    /// For a dead postmaster, first waits a little for the zombie to be
    /// reaped (then `pg_ctl start` and the server's own checks, including the
    /// one for old server processes still using the shared memory, handle
    /// the stale file). If the PID stays taken, waits for the old server's
    /// other processes (those whose working folder is the cluster) to exit,
    /// then removes the stale lock files itself.
    fn live_status(&self) -> Result<Status> {
        let status = self.status()?;
        if status == Status::Stopped {
            return Ok(status);
        }
        let Some(pid_file) = self.read_pid_file() else {
            return Ok(status);
        };
        if postmaster_alive(pid_file.pid) {
            return Ok(status);
        }
        let deadline = Instant::now() + STALE_WAIT;
        while is_zombie(pid_file.pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if !pid_exists(pid_file.pid) {
            return Ok(Status::Stopped);
        }
        let pgdata = fs::canonicalize(&self.pgdata).map_err(io_err(format!(
            "could not resolve {}",
            self.pgdata.display()
        )))?;
        let deadline = Instant::now() + STALE_WAIT;
        loop {
            let survivors = processes_in(&pgdata);
            if survivors.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(EmbeddedError::OldServerProcesses {
                    pgdata: self.pgdata.clone(),
                    pids: survivors,
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let pid_path = self.pgdata.join("postmaster.pid");
        tracing::warn!(
            pid = pid_file.pid,
            "removing the stale {}",
            pid_path.display()
        );
        remove_if_exists(&pid_path)?;
        // The socket lock file names the same dead PID.
        let socket_dir = pid_file
            .socket_dir
            .unwrap_or_else(|| self.socket_dir.clone());
        let socket_lock = socket_dir.join(format!(
            ".s.PGSQL.{}.lock",
            pid_file.port.unwrap_or(self.port)
        ));
        let lock_pid = fs::read_to_string(&socket_lock)
            .ok()
            .and_then(|text| parse_pid_file(&text))
            .map(|lock| lock.pid);
        if lock_pid == Some(pid_file.pid) {
            remove_if_exists(&socket_lock)?;
        }
        Ok(Status::Stopped)
    }

    /// Takes the socket folder and port from the running server's
    /// `postmaster.pid`.
    fn adopt_pid_file(&mut self) {
        if let Some(pid_file) = self.read_pid_file() {
            if let Some(dir) = pid_file.socket_dir {
                self.socket_dir = dir;
            }
            if let Some(port) = pid_file.port {
                self.port = port;
            }
        }
    }

    /// Prepares the socket folder, settings and log file, then runs
    /// `pg_ctl start`.
    fn start_server(&mut self) -> Result<()> {
        ensure_private_dir(&self.socket_dir, self.run_as)?;
        self.write_settings()?;
        let log_file = self.log_file();
        if let Some((uid, gid)) = self.run_as {
            // pg_ctl (as postgres) appends to it, but cannot create it in the
            // root-owned data folder.
            OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o640)
                .open(&log_file)
                .map_err(io_err(format!("could not create {}", log_file.display())))?;
            chown(&log_file, Some(uid), Some(gid))
                .map_err(sys_err(format!("could not chown {}", log_file.display())))?;
        }

        tracing::info!(pgdata = %self.pgdata.display(), socket_dir = %self.socket_dir.display(), "starting the embedded PostgreSQL server");
        let mut attempt = 1;
        loop {
            let log_offset = fs::metadata(&log_file).map(|m| m.len()).unwrap_or(0);
            let mut cmd = self.server_command("pg_ctl");
            cmd.arg("start")
                .args(["-w", "-t", &PG_CTL_TIMEOUT_SECS.to_string()])
                .arg("-D")
                .arg(&self.pgdata)
                .arg("-l")
                .arg(&log_file)
                // The server outlives this process and may serve others:
                // Ctrl-C in a terminal, or a test runner killing the test's
                // process group, must not reach it (pg_ctl also puts the
                // postmaster in a session of its own).
                .process_group(0);
            let out = run(&mut cmd)?;
            if out.status.success() {
                break;
            }
            let new_log = read_log_since(&log_file, log_offset);
            // After `kill -9` of the postmaster its children may hold the
            // old shared memory for a moment.
            if attempt < START_ATTEMPTS && new_log.contains("pre-existing shared memory block") {
                tracing::warn!(
                    "the previous PostgreSQL server's processes are still exiting; retrying"
                );
                attempt += 1;
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            let log_tail = if new_log.trim().is_empty() {
                read_log_since(&log_file, 0)
            } else {
                new_log
            };
            let failed = command_error(&cmd, &out);
            let (cmd, status, stderr) = match failed {
                EmbeddedError::Command {
                    cmd,
                    status,
                    stderr,
                } => (cmd, status, stderr),
                other => return Err(other),
            };
            return Err(EmbeddedError::StartFailed {
                cmd,
                status,
                stderr,
                log_file,
                log_tail: tail_lines(&log_tail, 30),
            });
        }
        self.adopt_pid_file();
        Ok(())
    }

    /// Writes `pgdata/plenary.conf` (included at the end of
    /// `postgresql.conf`).
    fn write_settings(&self) -> Result<()> {
        let socket_dir = self.socket_dir.to_string_lossy();
        let text = format!(
            "# Written by plenary on every start of the embedded server; edits are lost.\n\
             # Only reachable through the Unix socket below; no TCP listener.\n\
             listen_addresses = ''\n\
             unix_socket_directories = {}\n\
             port = {}\n\
             max_connections = 200\n\
             shared_buffers = 128MB\n\
             # A private cluster on local storage, its data mostly cached: index probes cost\n\
             # little more than sequential reads (the default 4.0 made the planner hash whole\n\
             # tables to join a few dozen rows; benches/RESULTS.md).\n\
             random_page_cost = 1.1\n",
            conf_string(&socket_dir),
            self.port
        );
        let path = self.pgdata.join("plenary.conf");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(format!("could not create {}", path.display())))?;
        file.write_all(text.as_bytes())
            .map_err(io_err(format!("could not write {}", path.display())))?;
        if let Some((uid, gid)) = self.run_as {
            chown(&path, Some(uid), Some(gid))
                .map_err(sys_err(format!("could not chown {}", path.display())))?;
        }
        Ok(())
    }

    /// Waits until `pg_isready` says the server accepts connections, or the
    /// postmaster is gone.
    fn wait_ready(&self) -> Result<Ready> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let mut cmd = self.client_command("pg_isready")?;
            cmd.arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string()])
                .args(["-U", SUPERUSER, "-d", "postgres", "-t", "5"]);
            let out = run(&mut cmd)?;
            if out.status.success() {
                return Ok(Ready::Yes);
            }
            if !self
                .read_pid_file()
                .is_some_and(|pid_file| postmaster_alive(pid_file.pid))
            {
                return Ok(Ready::Died);
            }
            if Instant::now() >= deadline {
                let mut answer = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let stderr = String::from_utf8_lossy(&out.stderr);
                if !stderr.trim().is_empty() {
                    answer.push_str(&format!(" {}", stderr.trim()));
                }
                let detail = format!(
                    "not ready within {}s (last `pg_isready` answer: {answer})",
                    READY_TIMEOUT.as_secs()
                );
                return Err(EmbeddedError::NotReady {
                    pgdata: self.pgdata.clone(),
                    socket_dir: self.socket_dir.clone(),
                    port: self.port,
                    detail,
                    log_file: self.log_file(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Creates the database `plenary` if it does not exist.
    fn ensure_database(&self) -> Result<()> {
        let psql = |sql: &str| -> Result<(Command, Output)> {
            let mut cmd = self.client_command("psql")?;
            cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string()])
                .args(["-U", SUPERUSER, "-d", "postgres", "-c", sql]);
            let out = run(&mut cmd)?;
            Ok((cmd, out))
        };
        let (cmd, out) = psql(&format!(
            "SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
        ))?;
        if !out.status.success() {
            return Err(command_error(&cmd, &out));
        }
        if String::from_utf8_lossy(&out.stdout).trim() == "1" {
            return Ok(());
        }
        tracing::info!("creating the database {DATABASE}");
        let (cmd, out) = psql(&format!("CREATE DATABASE \"{DATABASE}\""))?;
        if !out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("already exists")
        {
            return Err(command_error(&cmd, &out));
        }
        Ok(())
    }

    /// `pg_ctl stop -m fast`.
    fn pg_ctl_stop(&self) -> Result<()> {
        tracing::info!(pgdata = %self.pgdata.display(), "stopping the embedded PostgreSQL server");
        let mut cmd = self.server_command("pg_ctl");
        cmd.arg("stop").arg("-D").arg(&self.pgdata).args([
            "-m",
            "fast",
            "-w",
            "-t",
            &PG_CTL_TIMEOUT_SECS.to_string(),
        ]);
        let out = run(&mut cmd)?;
        if out.status.success() || self.status()? == Status::Stopped {
            return Ok(());
        }
        Err(command_error(&cmd, &out))
    }
}

// --------------------------------------------------------------------------
// Locating binaries

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn is_server_bindir(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl"))
}

/// First `name` on `PATH` that is executable.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

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

// --------------------------------------------------------------------------
// Users, folders, permissions

/// The user and group the server programs run as: `postgres` when running
/// as root, the current user (`None`) otherwise.
fn server_user() -> Result<Option<(Uid, Gid)>> {
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
fn make_traversable(dir: &Path) -> Result<()> {
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
fn check_traversable(data_dir: &Path, uid: Uid, gid: Gid) -> Result<()> {
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
fn ensure_private_dir(dir: &Path, run_as: Option<(Uid, Gid)>) -> Result<()> {
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

/// Command name and state letter of a process, from `/proc/<pid>/stat`.
fn proc_stat(pid: i64) -> Option<(String, char)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "<pid> (<comm>) <state> …"; comm may contain spaces and parentheses.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let state = stat.get(close + 1..)?.trim_start().chars().next()?;
    Some((stat.get(open + 1..close)?.to_owned(), state))
}

fn is_dead_state(state: char) -> bool {
    matches!(state, 'Z' | 'X' | 'x')
}

/// Whether `pid` is a zombie (dead, not yet reaped by its parent).
fn is_zombie(pid: i64) -> bool {
    proc_stat(pid).is_some_and(|(_, state)| is_dead_state(state))
}

/// Whether `pid` is a live (not zombie) PostgreSQL process. Without `/proc`
/// (not Linux), assumes it is.
fn postmaster_alive(pid: i64) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return true;
    }
    proc_stat(pid).is_some_and(|(comm, state)| {
        (comm.contains("postgres") || comm.contains("postmaster")) && !is_dead_state(state)
    })
}

/// Whether a process (possibly a zombie) has this PID.
fn pid_exists(pid: i64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Live processes whose working folder is `dir` (PostgreSQL server
/// processes work in their data folder). Empty without `/proc`.
fn processes_in(dir: &Path) -> Vec<i64> {
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

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EmbeddedError::Io {
            context: format!("could not remove the stale {}", path.display()),
            source: e,
        }),
    }
}

/// Takes the exclusive lock on `data_dir/lock` (released when the file is
/// dropped; the descriptor is close-on-exec, so the server never inherits
/// it).
fn lock_data_dir(data_dir: &Path) -> Result<File> {
    let path = data_dir.join("lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err(format!(
            "could not open the lock file {}",
            path.display()
        )))?;
    file.lock()
        .map_err(io_err(format!("could not lock {}", path.display())))?;
    Ok(file)
}

// --------------------------------------------------------------------------
// Socket folder

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
fn socket_dir_for(data_dir: &Path, port: u16) -> PathBuf {
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

// --------------------------------------------------------------------------
// Running programs

/// A command with a neutral environment and working folder.
fn base_command(program: &Path) -> Command {
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
fn describe(cmd: &Command) -> String {
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

fn run(cmd: &mut Command) -> Result<Output> {
    tracing::debug!(cmd = %describe(cmd), "running");
    cmd.output()
        .map_err(io_err(format!("could not run `{}`", describe(cmd))))
}

fn command_error(cmd: &Command, out: &Output) -> EmbeddedError {
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

fn run_checked(cmd: &mut Command) -> Result<Output> {
    let out = run(cmd)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(command_error(cmd, &out))
    }
}

// --------------------------------------------------------------------------
// Small parsers and formatters

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

/// The log file's text from `offset` on (best effort).
fn read_log_since(path: &Path, offset: u64) -> String {
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

fn tail_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

/// A quoted string value for `postgresql.conf`.
fn conf_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', "''"))
}

/// A value in a libpq key=value connection string, quoted when needed.
fn conninfo_value(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_binaries_finds_a_server_bindir() {
        let Ok(dir) = EmbeddedPostgres::locate_binaries() else {
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
        assert_eq!(
            major_version("pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)").as_deref(),
            Some("15")
        );
        assert_eq!(
            major_version("pg_ctl (PostgreSQL) 9.6.24").as_deref(),
            Some("9.6")
        );
        assert_eq!(
            major_version("pg_ctl (PostgreSQL) 17devel").as_deref(),
            Some("17")
        );
        assert_eq!(
            major_version("pg_ctl (PostgreSQL) 16beta1").as_deref(),
            Some("16")
        );
        assert_eq!(major_version("15").as_deref(), Some("15"));
        assert_eq!(major_version("nothing"), None);
    }

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

    #[test]
    fn pid_file_parsing() {
        let text = "1234\n/d/pg\n1700000000\n5432\n/d/run\n\n  5432001   163844\nready   \n";
        let pid_file = parse_pid_file(text).unwrap();
        assert_eq!(pid_file.pid, 1234);
        assert_eq!(pid_file.port, Some(5432));
        assert_eq!(pid_file.socket_dir, Some(PathBuf::from("/d/run")));
    }

    #[test]
    fn entering_folders() {
        let (uid, gid) = (Uid::from_raw(101), Gid::from_raw(104));
        assert!(may_enter(uid, gid, 0, 0, 0o755));
        assert!(!may_enter(uid, gid, 0, 0, 0o700));
        assert!(may_enter(uid, gid, 0, 104, 0o710));
        assert!(may_enter(uid, gid, 101, 0, 0o700));
        assert!(!may_enter(uid, gid, 101, 0, 0o077));
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
                    if let Some((uid, gid)) = run_as {
                        cmd.uid(uid.as_raw()).gid(gid.as_raw());
                    }
                    let _ = cmd
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

    #[test]
    fn start_stop_and_reuse_a_cluster() {
        if EmbeddedPostgres::locate_binaries().is_err() {
            eprintln!("skipped: no PostgreSQL binaries");
            return;
        }
        let data_dir = PathBuf::from(format!(
            "/tmp/plenary-embedded-unit-{:016x}",
            rand::random::<u64>()
        ));
        let _cleanup = Cleanup(data_dir.clone());

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
        if EmbeddedPostgres::locate_binaries().is_err() {
            eprintln!("skipped: no PostgreSQL binaries");
            return;
        }
        let data_dir = PathBuf::from(format!(
            "/tmp/plenary-embedded-unit-{:016x}",
            rand::random::<u64>()
        ));
        let _cleanup = Cleanup(data_dir.clone());

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
