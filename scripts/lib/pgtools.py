"""What the cluster-driving scripts (fault.py, scaleout.py) share: where the PostgreSQL server
binaries are, and a free TCP port on loopback. Standard library only."""
import glob, os, socket, subprocess, sys


def pg_bindir():
    """The folder of initdb, pg_ctl and friends: pg_config's, else the newest
    /usr/lib/postgresql/*/bin. Exits when there is none."""
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    except Exception:
        pass
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    if not dirs:
        sys.exit("PostgreSQL server binaries not found")
    return dirs[-1]


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
