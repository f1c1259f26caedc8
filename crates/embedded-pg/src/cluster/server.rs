//! The running server: `pg_ctl status` corrected for a stale `postmaster.pid`, start (or
//! reuse) and wait until it accepts connections, the database `plenary`, and `pg_ctl stop`.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use nix::unistd::chown;

use super::EmbeddedPostgres;
use crate::command::{command_error, run};
use crate::conf;
use crate::error::{io_err, sys_err, EmbeddedError, Result};
use crate::pid_file::{self, remove_if_exists, PidFile};
use crate::privileges::ensure_private_dir;
use crate::proc::{is_zombie, pid_exists, postmaster_alive, processes_in};
use crate::server_log::{read_log_since, tail_lines};
use crate::{DATABASE, SUPERUSER};

/// Seconds `pg_ctl start`/`stop` wait for the server.
const PG_CTL_TIMEOUT_SECS: u64 = 60;
/// How long to wait for a running server to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How many times `pg_ctl start` is tried when the previous postmaster's
/// children still hold its shared memory (after `kill -9` of the postmaster).
const START_ATTEMPTS: u32 = 10;
/// How long to wait for the processes of a dead server to go away.
const STALE_WAIT: Duration = Duration::from_secs(10);

/// Whether the server answered `pg_ctl status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// `pg_ctl status` found it running.
    Running,
    /// It does not run.
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

impl EmbeddedPostgres {
    /// `pg_ctl status`.
    pub(super) fn status(&self) -> Result<Status> {
        let mut cmd = self.server_command("pg_ctl");
        cmd.arg("status").arg("-D").arg(&self.pgdata);
        let out = run(&mut cmd)?;
        match out.status.code() {
            Some(0) => Ok(Status::Running),
            Some(3) => Ok(Status::Stopped),
            _ => Err(command_error(&cmd, &out)),
        }
    }

    /// The running (or dead) server's `postmaster.pid`.
    fn read_pid_file(&self) -> Option<PidFile> {
        pid_file::read(&self.pgdata.join("postmaster.pid"))
    }

    /// [`EmbeddedError::NotReady`] for this server, saying what went wrong.
    fn not_ready(&self, detail: String) -> EmbeddedError {
        EmbeddedError::NotReady {
            pgdata: self.pgdata.clone(),
            socket_dir: self.socket_dir.clone(),
            port: self.port,
            detail,
            log_file: self.log_file(),
        }
    }

    /// Reuses the running server, or starts it; then waits until it accepts
    /// connections. A server that dies while being reused is started again.
    pub(super) fn run_or_reuse(&mut self) -> Result<()> {
        let mut attempt = 1;
        loop {
            if self.live_status()? == Status::Stopped {
                self.start_server()?;
                self.started_by_us = true;
                return match self.wait_ready()? {
                    Ready::Yes => Ok(()),
                    Ready::Died => {
                        Err(self.not_ready("the server exited right after starting".to_owned()))
                    }
                };
            }
            tracing::info!(pgdata = %self.pgdata.display(), "reusing the running embedded PostgreSQL server");
            self.adopt_pid_file();
            match self.wait_ready()? {
                Ready::Yes => return Ok(()),
                Ready::Died if attempt < 3 => attempt += 1,
                Ready::Died => return Err(self.not_ready("the server keeps exiting".to_owned())),
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
    pub(super) fn live_status(&self) -> Result<Status> {
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
        let lock_pid = pid_file::read(&socket_lock).map(|lock| lock.pid);
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
        let text = conf::settings(&self.socket_dir.to_string_lossy(), self.port);
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
                return Err(self.not_ready(detail));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Creates the database `plenary` if it does not exist.
    pub(super) fn ensure_database(&self) -> Result<()> {
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
    pub(super) fn pg_ctl_stop(&self) -> Result<()> {
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
