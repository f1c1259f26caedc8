//! The e-mails Plenary sends (API.md, "Notifications: e-mail and webhooks"): their kinds and
//! their content, rendered from the templates in `templates/mail/` (compiled in) with
//! minijinja. Each kind has three templates: `{kind}.subject` (one line), `{kind}.txt` (the
//! plain-text part) and `{kind}.html` (the HTML alternative; `.html` turns auto-escaping on, so
//! a name with `<` in it stays text). Every string an e-mail shows is in those files, so a
//! second language is a second set of files.
//!
//! The context is a JSON object: `recipient_name`, `conference`, `start_date`, `end_date`,
//! `time_zone`, `delegation`, and per kind `code` and `expires_at` (invitation, password
//! reset), `link` (when a page for the code exists), `api_base`, `member`, `decision`, `note`,
//! `status_words`, `nominations_close_at`.

use std::sync::LazyLock;

use minijinja::Environment;
use serde_json::Value;

/// The five e-mails of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// To an invited focal point: the code, its expiry, how to accept.
    Invitation,
    /// To a delegation's active focal points: a nomination accepted or rejected.
    NominationDecided,
    /// To them: credentials verified, made provisional or rejected.
    CredentialsReviewed,
    /// To an account: a one-time reset code.
    PasswordReset,
    /// To each active focal point, once, before nominations close.
    NominationsClosing,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [MailKind; 5] = [
        MailKind::Invitation,
        MailKind::NominationDecided,
        MailKind::CredentialsReviewed,
        MailKind::PasswordReset,
        MailKind::NominationsClosing,
    ];

    /// The name in the API (`kind` of `GET .../messages`) and of the templates.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Invitation => "invitation",
            MailKind::NominationDecided => "nomination_decided",
            MailKind::CredentialsReviewed => "credentials_reviewed",
            MailKind::PasswordReset => "password_reset",
            MailKind::NominationsClosing => "nominations_closing",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// True for the kinds whose context holds a one-time code (erased once delivered; such a
    /// message cannot be sent again).
    pub fn carries_code(self) -> bool {
        matches!(self, MailKind::Invitation | MailKind::PasswordReset)
    }
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML alternative.
    pub html: String,
}

macro_rules! templates {
    ($env:ident: $($name:literal),* $(,)?) => {
        $( $env.add_template($name, include_str!(concat!("../../templates/mail/", $name)))?; )*
    };
}

static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    templates!(env:
        "base.txt", "base.html",
        "invitation.subject", "invitation.txt", "invitation.html",
        "nomination_decided.subject", "nomination_decided.txt", "nomination_decided.html",
        "credentials_reviewed.subject", "credentials_reviewed.txt", "credentials_reviewed.html",
        "password_reset.subject", "password_reset.txt", "password_reset.html",
        "nominations_closing.subject", "nominations_closing.txt", "nominations_closing.html",
    );
    Ok(env)
});

fn render_one(name: &str, context: &Value) -> Result<String, minijinja::Error> {
    let env = TEMPLATES.as_ref().map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    env.get_template(name)?
        .render(minijinja::value::Serde(context))
}

/// The subject line of `kind` for `context`: one line, whitespace collapsed. A template
/// error (a bug, caught by the tests) gives the kind's name instead of failing the write.
pub fn subject(kind: MailKind, context: &Value) -> String {
    match render_one(&format!("{}.subject", kind.as_str()), context) {
        Ok(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        Err(e) => {
            tracing::error!(kind = kind.as_str(), error = %e, "mail subject template failed");
            kind.as_str().replace('_', " ")
        }
    }
}

/// The subject, text and HTML of `kind` for `context`. Errors: a template error (a bug).
pub fn render(kind: MailKind, context: &Value) -> Result<Rendered, minijinja::Error> {
    let mut ctx = context.clone();
    let subject = subject(kind, context);
    if let Some(map) = ctx.as_object_mut() {
        map.insert("subject".into(), Value::String(subject.clone()));
    }
    Ok(Rendered {
        text: render_one(&format!("{}.txt", kind.as_str()), &ctx)?,
        html: render_one(&format!("{}.html", kind.as_str()), &ctx)?,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Value {
        json!({
            "recipient_name": "Nguyễn Văn <A>",
            "conference": "Conference on Regional Migration Governance Policies",
            "start_date": "2025-09-17", "end_date": "2025-09-17", "time_zone": "Asia/Shanghai",
            "delegation": "Viet Nam", "code": "CODE-123", "expires_at": "2025-09-01 00:00",
            "api_base": "http://127.0.0.1:8080", "member": "李明", "decision": "accepted",
            "note": "Welcome", "status_words": "verified", "nominations_close_at": "2025-09-10 18:00",
        })
    }

    #[test]
    fn every_kind_renders_with_the_names_and_escapes_html() {
        for kind in MailKind::ALL {
            let r = render(kind, &context()).unwrap_or_else(|e| panic!("{}: {e}", kind.as_str()));
            assert!(!r.subject.is_empty() && !r.subject.contains('\n'));
            assert!(r.text.contains("Nguyễn Văn <A>"), "{}", r.text);
            assert!(r.html.contains("Nguyễn Văn &lt;A&gt;"), "{}", r.html);
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
        let inv = render(MailKind::Invitation, &context()).expect("invitation");
        assert!(inv.text.contains("CODE-123") && inv.html.contains("CODE-123"));
        assert!(inv.subject.contains("Viet Nam"));
    }

    /// A new user's trial found only the first line of a note indented in the plain text.
    #[test]
    fn every_line_of_a_note_is_indented_in_the_plain_text() {
        let mut ctx = context();
        ctx["note"] = Value::String("First line.\nSecond line.\n\nLast line.".into());
        for kind in [MailKind::NominationDecided, MailKind::CredentialsReviewed] {
            let r = render(kind, &ctx).unwrap_or_else(|e| panic!("{}: {e}", kind.as_str()));
            for line in ["    First line.", "    Second line.", "    Last line."] {
                assert!(
                    r.text.lines().any(|l| l == line),
                    "{}: {line:?} in {}",
                    kind.as_str(),
                    r.text
                );
            }
        }
    }
}
