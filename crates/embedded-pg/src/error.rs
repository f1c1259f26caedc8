//! [`EmbeddedError`]: every way initialising, starting or stopping the cluster fails, each
//! message saying what failed and what the user can do; the crate's `Result` and the helpers
//! that attach context to I/O and system-call errors.

use std::io;
use std::path::PathBuf;

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

/// Shorthand for this crate's results.
pub(crate) type Result<T, E = EmbeddedError> = std::result::Result<T, E>;

/// Wraps an I/O error with what was being done.
pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// Wraps a system-call error with what was being done.
pub(crate) fn sys_err(context: impl Into<String>) -> impl FnOnce(nix::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Sys { context, source }
}
