//! `antenne token`: tokens for volunteers (limited to shows) and operators, to upload and, with
//! `--live`, to go on air from a live source.

use std::io::Write;

use anyhow::anyhow;

use crate::catalog::{Catalog, CatalogError, Grant, hash_secret, new_secret};
use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Create a token and print it once (only its hash is kept)
    Add {
        /// Who holds it, e.g. a volunteer's first name
        name: String,
        /// Shows it may upload to (repeat); none = an operator token (every show, edit, delete)
        #[arg(long = "show", value_name = "SLUG")]
        shows: Vec<String>,
        /// May also go on air from a live source (BUTT, Mixxx...): during its shows'
        /// `play = "live"` slots, or at any time for an operator token
        #[arg(long)]
        live: bool,
    },
    /// List tokens (names and shows, never secrets)
    List,
    /// Revoke a token by name
    Revoke { name: String },
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let catalog = Catalog::open(&settings.process.data_dir)?;
    let now = jiff::Timestamp::now();
    let io = |e: std::io::Error| CliError::Internal(e.into());
    match &args.action {
        Action::Add { name, shows, live } => {
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                return Err(CliError::user("a token name must be visible text"));
            }
            let secret = new_secret();
            let grant = Grant {
                shows: shows.clone(),
                live: *live,
            };
            match catalog.add_token(name, &hash_secret(&secret), &grant, now) {
                Err(CatalogError::Exists(what)) => {
                    return Err(CliError::User(anyhow!(
                        "{what} already exists: revoke it or pick another name"
                    )));
                }
                other => other?,
            }
            writeln!(out, "{secret}").map_err(io)?;
            let scope = if shows.is_empty() {
                "operator (every show)".to_string()
            } else {
                shows.join(", ")
            };
            let live = if *live { ", live sources included" } else { "" };
            eprintln!("token {name:?} created for {scope}{live}; it is shown only this once");
        }
        Action::List => {
            for t in catalog.list_tokens()? {
                let scope = if t.is_operator() {
                    "operator".to_string()
                } else {
                    t.shows.join(",")
                };
                let scope = if t.live {
                    format!("{scope},live")
                } else {
                    scope
                };
                let state = if t.revoked { "revoked" } else { "active" };
                writeln!(out, "{}\t{scope}\t{state}\t{}", t.name, t.created_at).map_err(io)?;
            }
        }
        Action::Revoke { name } => {
            if !catalog.revoke_token(name, now)? {
                return Err(CliError::User(anyhow!("no active token named {name:?}")));
            }
            writeln!(out, "revoked {name:?}").map_err(io)?;
        }
    }
    Ok(())
}
