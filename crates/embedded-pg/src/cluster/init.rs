//! Creating the cluster (`initdb` into a staging folder, renamed when complete) and checking
//! that an existing one fits: binaries of its major version, owned by the server user.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use nix::unistd::{chown, geteuid};

use super::EmbeddedPostgres;
use crate::binaries::{binaries_major, is_server_bindir, VERSIONED_ROOT};
use crate::command::run_checked;
use crate::conf::INCLUDE;
use crate::error::{io_err, sys_err, EmbeddedError, Result};
use crate::SUPERUSER;

impl EmbeddedPostgres {
    /// Creates the cluster: `initdb` into `data_dir/pg.initdb`, adds the
    /// plenary settings include, then renames it to `data_dir/pg` (so an
    /// interrupted `initdb` never leaves a half-made `pg`).
    pub(super) fn init(&mut self) -> Result<()> {
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
        file.write_all(INCLUDE)
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
    pub(super) fn check_version(&mut self) -> Result<()> {
        let version_file = self.pgdata.join("PG_VERSION");
        let cluster_version = fs::read_to_string(&version_file)
            .map_err(io_err(format!("could not read {}", version_file.display())))?
            .trim()
            .to_owned();
        let binaries_version = binaries_major(&self.bin_dir)?;
        if cluster_version == binaries_version {
            return Ok(());
        }
        let alternative = Path::new(VERSIONED_ROOT).join(&cluster_version).join("bin");
        if is_server_bindir(&alternative)
            && binaries_major(&alternative).ok().as_deref() == Some(cluster_version.as_str())
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

    /// `data_dir/pg` must belong to the user the server runs as.
    pub(super) fn check_pgdata_owner(&self) -> Result<()> {
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
}
