//! What plenary writes into the cluster's settings (the include line added to
//! `postgresql.conf`, the `plenary.conf` rewritten on every start), and quoting values for
//! `postgresql.conf` and for libpq connection strings.

/// Appended to `postgresql.conf` by `initdb`'s caller: the settings below live in their own
/// file.
pub(crate) const INCLUDE: &[u8] =
    b"\n# Added by plenary: settings of the embedded server (rewritten on every start).\n\
      include_if_exists = 'plenary.conf'\n";

/// The text of `pgdata/plenary.conf`: only reachable through the Unix socket in
/// `socket_dir`, plus the sizes and planner costs of a private cluster.
pub(crate) fn settings(socket_dir: &str, port: u16) -> String {
    format!(
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
        conf_string(socket_dir),
        port
    )
}

/// A quoted string value for `postgresql.conf`.
fn conf_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', "''"))
}

/// A value in a libpq key=value connection string, quoted when needed.
pub(crate) fn conninfo_value(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}
