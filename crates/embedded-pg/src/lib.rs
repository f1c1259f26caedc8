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
//!
//! The crate imports nothing from Plenary. Its modules, one concern each:
//!
//! | module | owns |
//! |---|---|
//! | `cluster` | [`EmbeddedPostgres`]: the handle and its lifecycle (`initdb`, start or reuse, stop) |
//! | `error` | [`EmbeddedError`], every failure with what the user can do about it |
//! | `binaries` | finding the server binaries and their major version |
//! | `privileges` | the user the server runs as (`postgres` under root) and the folders it must enter |
//! | `layout` | where things live: the default data folder, the socket folder |
//! | `lock` | the exclusive lock on the data folder |
//! | `proc` | `/proc`: whether a PID is a live postmaster, which processes work in a folder |
//! | `pid_file` | `postmaster.pid` and the stale lock files a crash leaves |
//! | `command` | running the PostgreSQL programs with a neutral environment |
//! | `conf` | the settings written into the cluster, quoting for them and for connection strings |
//! | `server_log` | reading the end of the server log for error messages |

mod binaries;
mod cluster;
mod command;
mod conf;
mod error;
mod layout;
mod lock;
mod pid_file;
mod privileges;
mod proc;
mod server_log;

pub use cluster::EmbeddedPostgres;
pub use error::EmbeddedError;

/// Name of the cluster's superuser (the role every connection uses).
pub const SUPERUSER: &str = "plenary";
/// Name of the database created in a new cluster.
pub const DATABASE: &str = "plenary";
/// Port number of the embedded server. It only names the socket file
/// (`.s.PGSQL.5432`) in a private folder; no TCP port is opened.
pub const PORT: u16 = 5432;
