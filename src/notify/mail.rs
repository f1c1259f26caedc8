//! E-mail delivery with lettre: SMTP when `PLENARY_SMTP_URL` is set (TLS as the URL says:
//! `smtps://` implicit TLS, `?tls=required` STARTTLS, plain `smtp://` none), else RFC 5322
//! `.eml` files in the data folder's `mail/` (the embedded default). Each message is
//! `multipart/alternative` (plain text and HTML, UTF-8) with the outbox row's id as its
//! `Message-ID`, so a second delivery of one message can be recognised.

use lettre::message::{header, Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use serde_json::Value;

use super::SenderConfig;
use crate::domain::mail::{self, MailKind};
use crate::store::outbox::{Claimed, Outcome};

/// Where e-mails go.
enum Transport {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Builds and sends the e-mails of the outbox.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// The host part of `Message-ID`s (the sender address's domain).
    id_domain: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// The mailer of `config`. Errors: an unparsable `PLENARY_SMTP_URL` or
    /// `PLENARY_MAIL_FROM`, or a `mail/` folder that cannot be made.
    pub fn new(config: &SenderConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config.settings.mail_from.parse().map_err(|e| {
            anyhow::anyhow!("PLENARY_MAIL_FROM {:?}: {e}", config.settings.mail_from)
        })?;
        let transport = match &config.settings.smtp_url {
            Some(url) => Transport::Smtp(Box::new(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("PLENARY_SMTP_URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build(),
            )),
            None => {
                std::fs::create_dir_all(&config.mail_dir)
                    .map_err(|e| anyhow::anyhow!("creating {}: {e}", config.mail_dir.display()))?;
                Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(&config.mail_dir))
            }
        };
        let id_domain = from.email.domain().to_string();
        Ok(Mailer {
            transport,
            from,
            id_domain,
        })
    }

    /// The e-mail of outbox row `message`, as sent: headers, text and HTML. Errors: a
    /// recipient the relay could not take, or a template error (both permanent).
    pub fn build(&self, config: &SenderConfig, message: &Claimed) -> Result<Message, String> {
        let kind = MailKind::parse(&message.kind)
            .ok_or_else(|| format!("unknown e-mail kind {}", message.kind))?;
        let mut context = message.payload.clone();
        if let Some(map) = context.as_object_mut() {
            map.insert("api_base".into(), config.public_url.clone().into());
            if let Some(code) = map.get("code").and_then(Value::as_str) {
                if let Some(link) = link(config, kind, code) {
                    map.insert("link".into(), link.into());
                }
            }
            // A focal point's e-mail links to the delegation's page in the portal.
            let page = map.get("portal_page").and_then(Value::as_str);
            if let (Some(page), false) = (page, map.contains_key("link")) {
                let page = format!("{}{page}", config.public_url.trim_end_matches('/'));
                map.insert("link".into(), page.into());
            }
        }
        let rendered = mail::render(kind, &context).map_err(|e| format!("template: {e}"))?;
        let address = message
            .recipient
            .parse()
            .map_err(|e| format!("recipient {:?}: {e}", message.recipient))?;
        let to = Mailbox::new(message.recipient_name.clone(), address);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone().unwrap_or(rendered.subject))
            .message_id(Some(format!("<{}@{}>", message.id, self.id_domain)))
            .raw_header(header::HeaderValue::new(
                header::HeaderName::new_from_ascii_str("X-Plenary-Kind"),
                kind.as_str().to_string(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| format!("building the message: {e}"))
    }

    /// Sends outbox row `message`: delivered, transient (connection refused, timeout, SMTP
    /// 4xx, a full disk) or permanent (SMTP 5xx, a message that cannot be built).
    pub async fn send(&self, config: &SenderConfig, message: &Claimed) -> Outcome {
        let email = match self.build(config, message) {
            Ok(email) => email,
            Err(error) => {
                return Outcome::Permanent {
                    error,
                    status_code: None,
                }
            }
        };
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(email).await {
                Ok(_) => Outcome::Delivered { status_code: None },
                Err(e) if e.is_permanent() => Outcome::Permanent {
                    error: e.to_string(),
                    status_code: e.status().and_then(|c| c.to_string().parse().ok()),
                },
                Err(e) => Outcome::Transient {
                    error: e.to_string(),
                    status_code: None,
                },
            },
            Transport::Files(files) => match files.send(email).await {
                Ok(_) => Outcome::Delivered { status_code: None },
                Err(e) => Outcome::Transient {
                    error: e.to_string(),
                    status_code: None,
                },
            },
        }
    }
}

/// The page for `code`: for an invitation, `PLENARY_INVITATION_URL` with `{code}` replaced,
/// else the portal's page to accept it; for a password reset, the portal's page to choose
/// the new password. Both portal pages are under the server's public address
/// (`PLENARY_PUBLIC_URL`, or the address it listens on).
fn link(config: &SenderConfig, kind: MailKind, code: &str) -> Option<String> {
    let base = config.public_url.trim_end_matches('/');
    match (kind, &config.settings.invitation_url) {
        (MailKind::Invitation, Some(template)) => Some(template.replace("{code}", code)),
        (MailKind::Invitation, None) => Some(format!("{base}/portal/invitation?code={code}")),
        (MailKind::PasswordReset, _) => {
            Some(format!("{base}/portal/password-reset/confirm?code={code}"))
        }
        _ => None,
    }
}
