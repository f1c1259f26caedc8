//! The exclusive lock on `data_dir/lock` that serialises the processes initialising,
//! starting or stopping one cluster.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{io_err, Result};

/// Takes the exclusive lock on `data_dir/lock` (released when the file is
/// dropped; the descriptor is close-on-exec, so the server never inherits
/// it).
pub(crate) fn lock_data_dir(data_dir: &Path) -> Result<File> {
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
