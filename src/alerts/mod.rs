//! Alerts that reach a person: the station's incidents ([`Event`]), each with a French and
//! an English text, de-duplicated into one alert when an incident starts and one "resolved"
//! when it ends ([`incident`]), then delivered by signed webhooks ([`webhook`]) and e-mail
//! ([`mail`]).
//!
//! The events come from where they happen through a channel; nothing that sends one waits for
//! its delivery (the audio path only flips atomics the daemon's watcher reads). Issue 16.

pub mod incident;
pub mod live;
pub mod mail;
pub mod refused;
pub mod task;
pub mod webhook;

use serde::Serialize;

pub use incident::{Alert, AlertState, Signal, Tracker};
pub use live::{LiveSeen, LiveWatch};
pub use mail::{Mailer, SmtpConfig, SmtpTls};
pub use refused::RefusedNames;
pub use task::{Alerts, AlertsConfig, Input};
pub use webhook::{DeliveryLog, Endpoint, Retry};

/// Something an operator must hear about. Conditions (dead air, stream down, disk low, a live
/// source dropped) last until they are cleared; the others are one-off failures, repeated ones
/// muted for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The silence alarm: sustained silence on air outside a scheduled silence.
    DeadAir,
    /// The playout produced no frames for `seconds`.
    StreamDown { seconds: u64 },
    /// A live source disconnected during its slot (until it streams again or the slot ends).
    LiveDropped { show: String },
    /// An upload or watch-folder file could not be ingested.
    IngestFailed { file: String, error: String },
    /// A schedule edit was refused; the previous schedule stays on air.
    ScheduleRefused { errors: String },
    /// Free space on the data folder fell under the threshold.
    DiskLow { free_mb: u64, threshold_mb: u64 },
    /// A request presented the token of a revoked name (`name`), or a token no name has
    /// (`name` empty).
    UploadUnauthorised { name: String },
    /// A scheduled backup failed.
    BackupFailed { error: String },
}

/// The kinds of [`Event`], as written in `events = [...]` of a `[[webhook]]`.
pub use crate::config::ALERT_EVENTS as KINDS;

/// The language of an alert's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Event {
    /// The event's kind, as in [`KINDS`] and in the JSON's `event`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::DeadAir => "dead_air",
            Event::StreamDown { .. } => "stream_down",
            Event::LiveDropped { .. } => "live_dropped",
            Event::IngestFailed { .. } => "ingest_failed",
            Event::ScheduleRefused { .. } => "schedule_refused",
            Event::DiskLow { .. } => "disk_low",
            Event::UploadUnauthorised { .. } => "upload_unauthorised",
            Event::BackupFailed { .. } => "backup_failed",
        }
    }

    /// What one incident is: two events with the same key are the same incident.
    pub fn key(&self) -> String {
        match self {
            Event::LiveDropped { show } => format!("live_dropped:{show}"),
            Event::IngestFailed { file, .. } => format!("ingest_failed:{file}"),
            Event::UploadUnauthorised { name } => format!("upload_unauthorised:{name}"),
            other => other.kind().to_string(),
        }
    }

    /// A condition lasts until cleared (one "resolved" when it ends); the others are one-off.
    pub fn is_condition(&self) -> bool {
        matches!(
            self,
            Event::DeadAir
                | Event::StreamDown { .. }
                | Event::DiskLow { .. }
                | Event::LiveDropped { .. }
        )
    }

    /// The alert's text when the incident starts.
    pub fn text(&self, lang: Lang) -> String {
        use Lang::{En, Fr};
        match (self, lang) {
            (Event::DeadAir, Fr) => "Blanc d'antenne : silence prolongé à l'antenne.".into(),
            (Event::DeadAir, En) => "Dead air: sustained silence on air.".into(),
            (Event::StreamDown { seconds }, Fr) => {
                format!("Flux coupé : aucune trame audio depuis {seconds} s.")
            }
            (Event::StreamDown { seconds }, En) => {
                format!("Stream down: no audio frames for {seconds} s.")
            }
            (Event::LiveDropped { show }, Fr) => {
                format!(
                    "Direct interrompu : la source de « {show} » s'est déconnectée pendant son créneau."
                )
            }
            (Event::LiveDropped { show }, En) => {
                format!("Live source dropped: \"{show}\" disconnected during its slot.")
            }
            (Event::IngestFailed { file, error }, Fr) => {
                format!("Échec de l'import de {file} : {error}")
            }
            (Event::IngestFailed { file, error }, En) => {
                format!("Ingest of {file} failed: {error}")
            }
            (Event::ScheduleRefused { errors }, Fr) => format!(
                "Modification de la grille refusée, la grille précédente reste à l'antenne :\n{errors}"
            ),
            (Event::ScheduleRefused { errors }, En) => {
                format!("Schedule edit refused, the previous schedule stays on air:\n{errors}")
            }
            (
                Event::DiskLow {
                    free_mb,
                    threshold_mb,
                },
                Fr,
            ) => format!("Espace disque faible : {free_mb} Mo libres (seuil {threshold_mb} Mo)."),
            (
                Event::DiskLow {
                    free_mb,
                    threshold_mb,
                },
                En,
            ) => format!("Disk space low: {free_mb} MB free (threshold {threshold_mb} MB)."),
            (Event::UploadUnauthorised { name }, Fr) if name.is_empty() => {
                "Jeton refusé : un jeton inconnu a été présenté.".into()
            }
            (Event::UploadUnauthorised { name }, En) if name.is_empty() => {
                "Token refused: an unknown token was presented.".into()
            }
            (Event::UploadUnauthorised { name }, Fr) => {
                format!("Envoi refusé : le nom « {name} » est inconnu ou révoqué.")
            }
            (Event::UploadUnauthorised { name }, En) => {
                format!("Upload refused: the name \"{name}\" is unknown or revoked.")
            }
            (Event::BackupFailed { error }, Fr) => format!("Échec de la sauvegarde : {error}"),
            (Event::BackupFailed { error }, En) => format!("Backup failed: {error}"),
        }
    }

    /// The text when the incident ends.
    pub fn resolved_text(&self, lang: Lang) -> String {
        let what = match (self, lang) {
            (Event::DeadAir, Lang::Fr) => "blanc d'antenne",
            (Event::DeadAir, Lang::En) => "dead air",
            (Event::StreamDown { .. }, Lang::Fr) => "flux coupé",
            (Event::StreamDown { .. }, Lang::En) => "stream down",
            (Event::DiskLow { .. }, Lang::Fr) => "espace disque faible",
            (Event::DiskLow { .. }, Lang::En) => "disk space low",
            (Event::LiveDropped { .. }, Lang::Fr) => "direct interrompu",
            (Event::LiveDropped { .. }, Lang::En) => "live source dropped",
            (_, Lang::Fr) => "incident",
            (_, Lang::En) => "incident",
        };
        match lang {
            Lang::Fr => format!("Résolu : {what}."),
            Lang::En => format!("Resolved: {what}."),
        }
    }
}
