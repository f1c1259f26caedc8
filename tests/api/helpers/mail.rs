//! The e-mails a test server wrote: without `PLENARY_SMTP_URL` every message is an RFC 5322
//! `.eml` file in the server's mail folder (lettre's file transport), read back here the way a
//! mail client would (headers unfolded, the transfer encoding of each part decoded).

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;

/// One e-mail as read from its file.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The headers, unfolded, in order: (name, value).
    pub headers: Vec<(String, String)>,
    /// The `text/plain` part, decoded.
    pub text: String,
    /// The `text/html` part, decoded.
    pub html: String,
}

impl Mail {
    /// The first header named `name` (any letter case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The one-time code of an invitation or a password reset: the indented line after
    /// "usable once):".
    pub fn code(&self) -> String {
        self.text
            .lines()
            .skip_while(|l| !l.contains("usable once"))
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.contains("usable once"))
            .unwrap_or_default()
            .to_string()
    }
}

fn unfold(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            out.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn decode(encoding: &str, body: &str) -> String {
    match encoding.to_ascii_lowercase().as_str() {
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        "quoted-printable" => {
            let soft = body.replace("=\r\n", "").replace("=\n", "");
            let mut bytes = Vec::new();
            let raw = soft.as_bytes();
            let mut i = 0;
            while i < raw.len() {
                if raw[i] == b'=' && i + 2 < raw.len() {
                    if let Ok(b) = u8::from_str_radix(&soft[i + 1..i + 3], 16) {
                        bytes.push(b);
                        i += 3;
                        continue;
                    }
                }
                bytes.push(raw[i]);
                i += 1;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_string(),
    }
}

/// Parses an `.eml` file's text.
pub fn parse(raw: &str) -> Mail {
    let raw_n = raw.replace("\r\n", "\n");
    let (head, body) = raw_n.split_once("\n\n").unwrap_or((&raw_n, ""));
    let headers = unfold(head);
    let mut mail = Mail {
        headers,
        text: String::new(),
        html: String::new(),
    };
    let boundary = mail
        .header("content-type")
        .and_then(|ct| ct.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string());
    let Some(boundary) = boundary else {
        mail.text = body.to_string();
        return mail;
    };
    for part in body.split(&format!("--{boundary}")) {
        let Some((phead, pbody)) = part.trim_start_matches('\n').split_once("\n\n") else {
            continue;
        };
        let ph = unfold(phead);
        let get = |n: &str| {
            ph.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let text = decode(&get("content-transfer-encoding"), pbody.trim_end());
        let ct = get("content-type").to_ascii_lowercase();
        if ct.starts_with("text/plain") {
            mail.text = text;
        } else if ct.starts_with("text/html") {
            mail.html = text;
        }
    }
    mail
}

/// Every e-mail in `dir` so far.
pub fn all_in(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|raw| parse(&raw))
        .collect()
}

/// Waits (up to 10 s) until `dir` holds `count` e-mails to `address` of `kind`, and returns
/// them; panics with what arrived otherwise.
pub async fn wait_for(dir: &Path, address: &str, kind: &str, count: usize) -> Vec<Mail> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<Mail> = all_in(dir)
            .into_iter()
            .filter(|m| m.header("to").is_some_and(|to| to.contains(address)))
            .filter(|m| m.header("x-plenary-kind") == Some(kind))
            .collect();
        if found.len() >= count || Instant::now() > deadline {
            assert!(
                found.len() >= count,
                "{count} {kind} e-mail(s) to {address} expected in {}; found {}",
                dir.display(),
                found.len()
            );
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
