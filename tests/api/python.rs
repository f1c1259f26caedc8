//! Independent tools in Python: parsers for the exports (the `csv` module and the `icalendar`
//! package) and for e-mails (the `email` package), an SMTP server (`aiosmtpd`) and the Standard Webhooks reference library (`standardwebhooks`, which the webhook receiver verifies signatures with), run in
//! the virtualenv `.venv-ci` that `.ci/run` sets up with `tests/api/py/requirements.txt`.
//! When it is missing or lacks a package (a plain `cargo test`), the first test that needs it
//! creates it with `python3 -m venv` and `pip install -r`, under a file lock so that parallel
//! tests and test binaries build it once. `PLENARY_TEST_PYTHON` may name another interpreter
//! that has those packages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

/// The PyPI packages the tests import (`tests/api/py/requirements.txt` installs them).
const IMPORTS: &str = "import icalendar, aiosmtpd, standardwebhooks";

fn has_packages(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", IMPORTS])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Python interpreter with the tests' packages, creating `.venv-ci` when needed.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(p) = std::env::var("PLENARY_TEST_PYTHON") {
            let p = PathBuf::from(p);
            assert!(
                has_packages(&p),
                "PLENARY_TEST_PYTHON lacks a package of tests/api/py/requirements.txt"
            );
            return p;
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = root.join(".venv-ci");
        let python = venv.join("bin").join("python");
        if has_packages(&python) {
            return python;
        }
        let lock = std::fs::File::create(root.join("target").join(".venv-ci.lock"))
            .or_else(|_| std::fs::File::create(std::env::temp_dir().join("plenary-venv-ci.lock")))
            .expect("venv lock file");
        lock.lock().expect("venv lock");
        if !has_packages(&python) {
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
            run(Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(root.join("tests/api/py/requirements.txt")));
        }
        let _ = lock.unlock();
        assert!(
            has_packages(&python),
            "{} lacks a package of tests/api/py/requirements.txt",
            python.display()
        );
        python
    })
}

/// Runs `tests/api/py/<script>` with `input` on stdin and parses its JSON output. Runs on the
/// blocking pool: creating the virtualenv takes a while, and the test's runtime must keep
/// serving its HTTP connections meanwhile.
pub async fn parse_with(script: &str, input: &[u8]) -> Value {
    let (script, input) = (script.to_string(), input.to_vec());
    tokio::task::spawn_blocking(move || parse_blocking(&script, &input))
        .await
        .expect("python task")
}

/// The path of `tests/api/py/<script>`.
pub fn script_path(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/py")
        .join(script)
}

fn parse_blocking(script: &str, input: &[u8]) -> Value {
    let path = script_path(script);
    let mut child = Command::new(python())
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("python output");
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}
