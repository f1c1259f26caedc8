"""One PostgreSQL cluster for the cluster-driving scripts (fault.py, scaleout.py): initdb or a
base backup of another cluster, start with extra settings, stop, kill, psql, a libpq connection
string. It listens on a Unix socket only; as root, the PostgreSQL programs run as the
`postgres` user (through runuser). Standard library only."""
import os, pwd, signal, subprocess

from harness import free_port, pg_bindir


class Cluster:
    """One PostgreSQL cluster under root/name: data/, sock/ (Unix socket only) and log. `db` is
    the database psql and url use unless told another."""

    def __init__(self, root, name, db="plenary"):
        self.bindir = pg_bindir()
        self.home = os.path.join(root, name)
        self.pgdata = os.path.join(self.home, "data")
        self.sock = os.path.join(self.home, "sock")
        self.log = os.path.join(self.home, "log")
        self.db = db
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        for d in (self.home, self.sock, self.pgdata):
            os.makedirs(d, mode=0o700, exist_ok=True)
        os.chmod(self.pgdata, 0o700)
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chmod(root, 0o755)
            os.chmod(self.home, 0o755)
            for d in (self.home, self.sock, self.pgdata):
                os.chown(d, pw.pw_uid, pw.pw_gid)

    def run(self, *args, timeout=60):
        """Runs a PostgreSQL program of the server's binaries folder (as `postgres` under root)."""
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def init(self):
        r = self.run("initdb", "-D", self.pgdata, "-U", "plenary", "--auth=trust", "-E", "UTF8", "--locale=C")
        if r.returncode != 0:
            raise RuntimeError("initdb failed: " + r.stderr)

    def basebackup_from(self, primary):
        """Makes this cluster a streaming replica of `primary` (not started)."""
        # -R writes standby.signal and primary_conninfo (the primary's socket and port);
        # -X stream copies the WAL written during the backup over a second connection.
        r = self.run("pg_basebackup", "-h", primary.sock, "-p", str(primary.port), "-U", "plenary",
                     "-D", self.pgdata, "-R", "-X", "stream", "-c", "fast", timeout=120)
        if r.returncode != 0:
            raise RuntimeError("pg_basebackup failed: " + r.stderr)

    def start(self, *settings):
        """`pg_ctl start`, each of `settings` (`name=value`) passed as `-c`."""
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses='' -c max_connections=100"
        for s in settings:
            opts += f" -c {s}"
        r = self.run("pg_ctl", "start", "-w", "-D", self.pgdata, "-l", self.log, "-o", opts)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start failed: " + r.stderr + r.stdout + self.log_tail())

    def stop(self, mode="fast"):
        """`pg_ctl stop -m mode`; never raises (also used at cleanup)."""
        try:
            self.run("pg_ctl", "stop", "-w", "-m", mode, "-D", self.pgdata)
        except Exception:
            pass

    def kill(self):
        """Last resort at cleanup: SIGKILL the postmaster if pg_ctl left it running."""
        try:
            with open(os.path.join(self.pgdata, "postmaster.pid")) as f:
                pid = int(f.readline())
            os.kill(pid, signal.SIGKILL)
        except Exception:
            pass

    def psql(self, sql, db=None):
        """The unaligned, tuples-only output of `sql` in `db` (default: the cluster's `db`)."""
        r = self.run("psql", "-h", self.sock, "-p", str(self.port), "-U", "plenary", "-d", db or self.db, "-At",
                     "-v", "ON_ERROR_STOP=1", "-c", sql)
        if r.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {r.stderr}")
        return r.stdout

    def url(self, db=None):
        """A libpq key=value connection string to `db` (default: the cluster's `db`)."""
        return f"host={self.sock} port={self.port} user=plenary dbname={db or self.db}"

    def log_tail(self, n=20):
        """The server log's last `n` lines (with a leading newline), or "" when unreadable."""
        try:
            with open(self.log, errors="replace") as f:
                return "\n" + "".join(f.readlines()[-n:])
        except Exception:
            return ""
