//! The alerts task: signals and title changes in, de-duplicated alerts out to every webhook
//! that wants them. Deliveries run side by side inside the task (a webhook that is down
//! retries without holding up the others); senders never wait (`try_send` on a bounded
//! channel: when the task is far behind, a signal is dropped and counted, never the audio).

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::Lang;
use super::incident::{Alert, Signal, Tracker};
use super::mail::Mailer;
use super::webhook::{DeliveryLog, Endpoint, Retry, deliver};

/// What the alerts task needs, built by the daemon's edge.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// The station's name, in every message.
    pub station: String,
    pub webhooks: Vec<Endpoint>,
    /// E-mail to the operators (`[smtp]`), when set.
    pub mail: Option<Mailer>,
    pub retry: Retry,
    /// A one-off failure repeated within this is the same incident.
    pub quiet: Duration,
}

/// What reaches the alerts task.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Signal(Signal),
    /// The title on air changed (now-playing webhooks).
    NowPlaying {
        title: String,
        kind: String,
    },
}

/// The sending side, cloned into every place an event happens.
#[derive(Debug, Clone)]
pub struct Alerts(mpsc::Sender<Input>);

/// Signals waiting for the task at most.
const QUEUE: usize = 256;

impl Alerts {
    /// A sender and the receiver the task reads.
    pub fn channel() -> (Alerts, mpsc::Receiver<Input>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Alerts(tx), rx)
    }

    /// Hands `input` to the task without waiting; dropped (and logged) when the queue is full.
    pub fn send(&self, input: Input) {
        if let Err(mpsc::error::TrySendError::Full(input)) = self.0.try_send(input) {
            tracing::warn!(?input, "alerts: queue full, signal dropped");
        }
    }

    pub fn raise(&self, event: super::Event) {
        self.send(Input::Signal(Signal::Raise(event)));
    }

    pub fn clear(&self, key: &str) {
        self.send(Input::Signal(Signal::Clear(key.to_string())));
    }
}

/// The JSON body of an alert.
pub fn alert_body(station: &str, alert: &Alert) -> serde_json::Value {
    let (fr, en) = match alert.state {
        super::AlertState::Firing => (alert.event.text(Lang::Fr), alert.event.text(Lang::En)),
        super::AlertState::Resolved => (
            alert.event.resolved_text(Lang::Fr),
            alert.event.resolved_text(Lang::En),
        ),
    };
    json!({
        "station": station,
        "event": alert.event.kind(),
        "state": alert.state,
        "incident": alert.event.key(),
        "at": jiff::Timestamp::now().to_string(),
        "text": { "fr": fr, "en": en },
        "details": alert.event,
    })
}

/// Keeps one incident's messages in order at each destination: its "resolved" leaves only
/// once its alert was delivered there (or given up), so an operator never reads "Résolu"
/// first, even when both come on the same tick. Other destinations and incidents are not
/// held up.
#[derive(Default)]
struct Order(HashMap<(String, String), oneshot::Receiver<()>>);

/// The delivery to wait for before sending (none: at once), and the signal this one gives.
#[derive(Default)]
struct After {
    previous: Option<oneshot::Receiver<()>>,
    done: Option<oneshot::Sender<()>>,
}

impl Order {
    /// The place of the next message of `(destination, incident)`.
    fn next(&mut self, key: (String, String)) -> After {
        // Deliveries finished (or abandoned) hold nothing up: forget them.
        self.0
            .retain(|_, rx| matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)));
        let (done, rx) = oneshot::channel();
        After {
            previous: self.0.insert(key, rx),
            done: Some(done),
        }
    }
}

impl After {
    /// `delivery`, once the previous message of its incident is out.
    async fn then(self, delivery: impl std::future::Future<Output = ()>) {
        if let Some(previous) = self.previous {
            let _ = previous.await;
        }
        delivery.await;
        if let Some(done) = self.done {
            let _ = done.send(());
        }
    }
}

/// Runs until `cancel`; pending deliveries are abandoned then.
pub async fn run(
    config: AlertsConfig,
    mut rx: mpsc::Receiver<Input>,
    log: DeliveryLog,
    cancel: CancellationToken,
) {
    let mut tracker = Tracker::new(config.quiet);
    let mut deliveries = JoinSet::new();
    let mut order = Order::default();
    loop {
        let input = tokio::select! {
            () = cancel.cancelled() => break,
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => continue,
            input = rx.recv() => match input {
                Some(input) => input,
                None => break,
            },
        };
        let (kind, body, incident) = match input {
            Input::Signal(signal) => {
                let Some(alert) = tracker.signal(signal, Instant::now()) else {
                    continue;
                };
                tracing::warn!(event = alert.event.kind(), state = ?alert.state, "alert: {}", alert.event.text(Lang::En));
                let incident = alert.event.key();
                if let Some(mailer) = &config.mail {
                    let (mailer, alert, log, retry) =
                        (mailer.clone(), alert.clone(), log.clone(), config.retry);
                    let station = config.station.clone();
                    let after = order.next(("smtp".into(), incident.clone()));
                    deliveries.spawn(
                        after.then(
                            async move { mailer.deliver(&station, &alert, retry, &log).await },
                        ),
                    );
                }
                (
                    alert.event.kind(),
                    alert_body(&config.station, &alert),
                    Some(incident),
                )
            }
            Input::NowPlaying { title, kind } => (
                "now_playing",
                json!({
                    "station": config.station,
                    "event": "now_playing",
                    "at": jiff::Timestamp::now().to_string(),
                    "title": title,
                    "kind": kind,
                }),
                None,
            ),
        };
        let body = Bytes::from(body.to_string());
        for endpoint in config.webhooks.iter().filter(|w| w.wants(kind)) {
            let after = match &incident {
                Some(key) => order.next((endpoint.url.to_string(), key.clone())),
                None => After::default(),
            };
            let (endpoint, body, log, retry) =
                (endpoint.clone(), body.clone(), log.clone(), config.retry);
            deliveries.spawn(
                after.then(async move { deliver(&endpoint, kind, body, retry, &log).await }),
            );
        }
    }
    deliveries.abort_all();
}
