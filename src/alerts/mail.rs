//! E-mail alerts over SMTP (lettre): one message per alert to every address of `[smtp] to`,
//! the subject and the French text first, the English text after; retried like a webhook
//! and logged in the same [`DeliveryLog`].

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::time::timeout;

use super::webhook::{Delivery, DeliveryLog, Retry};
use super::{Alert, AlertState, Lang};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same machine or network).
    None,
    /// Plain, then upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// `[smtp]`, resolved by the daemon's edge.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Login, when the server asks for one.
    pub credentials: Option<(String, String)>,
    pub from: String,
    pub to: Vec<String>,
}

/// A ready SMTP client.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    describe: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl Mailer {
    /// Checks the addresses and builds the transport (no connection yet).
    pub fn new(c: &SmtpConfig) -> Result<Mailer, String> {
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| format!("smtp.from {:?}: {e}", c.from))?;
        let to =
            c.to.iter()
                .map(|t| t.parse().map_err(|e| format!("smtp.to {t:?}: {e}")))
                .collect::<Result<Vec<Mailbox>, String>>()?;
        if to.is_empty() {
            return Err("smtp.to: no address to send alerts to".into());
        }
        let builder = match c.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
                .map_err(|e| format!("smtp.host {:?}: {e}", c.host))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)
                .map_err(|e| format!("smtp.host {:?}: {e}", c.host))?,
        };
        let mut builder = builder.port(c.port);
        if let Some((user, password)) = &c.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            to,
            describe: format!("smtp://{}:{}", c.host, c.port),
        })
    }

    /// The message of `alert`: subject and French text first, then the English text.
    pub fn message(&self, station: &str, alert: &Alert) -> Result<Message, String> {
        let (fr, en) = match alert.state {
            AlertState::Firing => (alert.event.text(Lang::Fr), alert.event.text(Lang::En)),
            AlertState::Resolved => (
                alert.event.resolved_text(Lang::Fr),
                alert.event.resolved_text(Lang::En),
            ),
        };
        let first = fr.lines().next().unwrap_or_default();
        let first = first.trim_end_matches(':').trim_end();
        let subject = format!("[Antenne] {first}");
        let body = format!(
            "{fr}\n\nStation : {station}\nIncident : {}\nÀ : {}\n\n-- English --\n{en}\n",
            alert.event.key(),
            jiff::Timestamp::now(),
        );
        let mut m = Message::builder().from(self.from.clone()).subject(subject);
        for to in &self.to {
            m = m.to(to.clone());
        }
        m.header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())
    }

    /// Sends `alert`, retrying per `retry`, and logs the outcome.
    pub async fn deliver(&self, station: &str, alert: &Alert, retry: Retry, log: &DeliveryLog) {
        let mut wait = retry.first_backoff;
        let mut attempts = 0;
        let mut error = None;
        while attempts < retry.attempts {
            if attempts > 0 {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            attempts += 1;
            let sent = match self.message(station, alert) {
                Ok(m) => match timeout(retry.timeout, self.transport.send(m)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("timed out".to_string()),
                },
                // A message that cannot be built will not be built on a retry either.
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            error = sent.err();
            if error.is_none() {
                break;
            }
        }
        if let Some(e) = &error {
            tracing::warn!(to = %self.describe, attempts, error = %e, "alerts: e-mail not sent");
        }
        log.push(Delivery {
            at: jiff::Timestamp::now().to_string(),
            url: self.describe.clone(),
            event: alert.event.kind().to_string(),
            attempts,
            status: None,
            ok: error.is_none(),
            error,
        });
    }
}
