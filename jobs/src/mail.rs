//! Mail over real SMTP (lettre): STARTTLS, implicit TLS, or plain for a local relay.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use diembao_core::config::{SmtpConfig, SmtpSecurity};

use crate::JobError;

/// One message: plain text with an HTML alternative, and optional inline images.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
    /// `(content id, content type, bytes)` images referenced as `cid:` in the HTML.
    pub inline: Vec<(String, String, Vec<u8>)>,
    /// A stable Message-ID (`<…@…>`), so a resend after a crash is recognisably the same mail.
    pub message_id: &'a str,
}

fn mail_err(err: impl std::fmt::Display) -> JobError {
    JobError::Other(format!("mail: {err}"))
}

pub fn transport(config: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, JobError> {
    let builder = match config.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
        SmtpSecurity::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host).map_err(mail_err)?
        }
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(mail_err)?
        }
    };
    let mut builder = builder.port(config.port);
    if !config.username.is_empty() {
        let password = if config.password_env.is_empty() {
            String::new()
        } else {
            std::env::var(&config.password_env).map_err(|_| {
                mail_err(format!(
                    "smtp.password_env names `{}`, which is not set",
                    config.password_env
                ))
            })?
        };
        builder = builder.credentials(Credentials::new(config.username.clone(), password));
    }
    Ok(builder.build())
}

pub async fn send(config: &SmtpConfig, mail: &Mail<'_>) -> Result<(), JobError> {
    let from: Mailbox = config
        .from
        .parse()
        .map_err(|e| mail_err(format!("smtp.from `{}`: {e}", config.from)))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| mail_err(format!("recipient `{}`: {e}", mail.to)))?;
    let text_part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.to_string());
    let body = match mail.html {
        None => MultiPart::mixed().singlepart(text_part),
        Some(html) => {
            let mut related = MultiPart::related().singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.to_string()),
            );
            for (cid, content_type, bytes) in &mail.inline {
                let content_type = ContentType::parse(content_type).map_err(mail_err)?;
                related = related.singlepart(
                    Attachment::new_inline(cid.clone()).body(bytes.clone(), content_type),
                );
            }
            MultiPart::mixed().multipart(
                MultiPart::alternative()
                    .singlepart(text_part)
                    .multipart(related),
            )
        }
    };
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .message_id(Some(mail.message_id.to_string()))
        .multipart(body)
        .map_err(mail_err)?;
    transport(config)?.send(message).await.map_err(mail_err)?;
    Ok(())
}
