//! Volunteers' tokens from the console: create one for some shows (upload, and live when
//! asked), its secret shown once with what to tell the volunteer; list; revoke (the token's
//! sessions end with it). Operator tokens are made with `antenne token add` on the server.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::page::{self, Frame, form_fields, local};
use super::session::{Operator, Posted};
use super::text::t;
use super::{Console, audit};
use crate::catalog::{CatalogError, Grant, hash_secret, new_secret};
use crate::http::ApiError;
use crate::http::state::{CatalogAccess, HttpConfig, OnAir};
use crate::http::web::{Lang, esc};

fn frame<'a>(op: &'a Operator, title: &'a str) -> Frame<'a> {
    Frame {
        lang: op.lang,
        title,
        who: Some(op),
        path: "/console/tokens",
    }
}

/// `GET /console/tokens`: every token (never a secret) and the form for a new one.
pub async fn list(
    op: Operator,
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
) -> Result<Response, ApiError> {
    list_page(&op, &catalog, &on_air, StatusCode::OK, None).await
}

async fn list_page(
    op: &Operator,
    catalog: &CatalogAccess,
    on_air: &OnAir,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let lang = op.lang;
    let tokens = catalog.with_catalog(|c| c.list_tokens()).await?;
    let mut body = String::new();
    if let Some(e) = error {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            esc(&e)
        ));
    }
    let shows: String = on_air
        .current_schedule()
        .shows()
        .iter()
        .map(|s| {
            format!(
                "<label class=\"day\"><input type=\"checkbox\" name=\"shows\" value=\"{}\"> {}</label>",
                esc(&s.slug),
                esc(&s.title)
            )
        })
        .collect();
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/tokens\" class=\"card\">{fields}<h2>{new}</h2>\
         <label>{name}<input name=\"name\" required maxlength=\"64\"></label>\
         <fieldset><legend>{shows_l}</legend>{shows}</fieldset>\
         <label class=\"day\"><input type=\"checkbox\" name=\"live\" value=\"1\"> {live}</label>\
         <p><button type=\"submit\">{create}</button></p></form>",
        fields = form_fields(op),
        new = t(lang, "new_token"),
        name = t(lang, "token_name"),
        shows_l = t(lang, "token_shows"),
        live = t(lang, "token_live"),
        create = t(lang, "create"),
    ));
    body.push_str(&format!(
        "<h2>{}</h2><table class=\"tokens\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
        t(lang, "tokens"),
        t(lang, "token_name"),
        t(lang, "token_shows"),
        t(lang, "created"),
        t(lang, "state"),
    ));
    for tk in &tokens {
        let scope = if tk.is_operator() {
            t(lang, "operator").to_owned()
        } else {
            esc(&tk.shows.join(", "))
        };
        let scope = if tk.live {
            format!("{scope} + {}", t(lang, "live"))
        } else {
            scope
        };
        let action = if tk.revoked {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"/console/tokens/revoke\" class=\"inline\">{}\
                 <input type=\"hidden\" name=\"name\" value=\"{}\"><button type=\"submit\" class=\"danger\">{}</button></form>",
                form_fields(op),
                esc(&tk.name),
                t(lang, "revoke")
            )
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{scope}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            esc(&tk.name),
            esc(&local(on_air, tk.created_at)),
            t(lang, if tk.revoked { "revoked" } else { "active" }),
        ));
    }
    body.push_str("</tbody></table>");
    Ok(page::render(status, &frame(op, t(lang, "tokens")), &body))
}

/// `POST /console/tokens` (`name`, `shows`…, `live`): the secret, shown this once.
pub async fn create(
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    State(config): State<Arc<HttpConfig>>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let op = &posted.op;
    let lang = op.lang;
    let name = posted.get("name").trim().to_owned();
    let shows = posted.all("shows");
    let known = on_air.show_slugs();
    let bad = if name.is_empty() || name.chars().any(char::is_control) || name.len() > 64 {
        Some(t(lang, "token_bad_name"))
    } else if shows.is_empty() || shows.iter().any(|s| !known.contains(s)) {
        Some(t(lang, "token_no_show"))
    } else {
        None
    };
    if let Some(e) = bad {
        return list_page(
            op,
            &catalog,
            &on_air,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(e.to_owned()),
        )
        .await;
    }
    let live = posted.get("live") == "1";
    let secret = new_secret();
    let grant = Grant {
        shows: shows.clone(),
        live,
    };
    let (n, h, g) = (name.clone(), hash_secret(&secret), grant.clone());
    let added = catalog.catalog().clone();
    let result =
        tokio::task::spawn_blocking(move || added.add_token(&n, &h, &g, jiff::Timestamp::now()))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
    match result {
        Err(CatalogError::Exists(_)) => {
            return list_page(
                op,
                &catalog,
                &on_air,
                StatusCode::CONFLICT,
                Some(format!("{name:?} : {}", t(lang, "token_exists"))),
            )
            .await;
        }
        other => other.map_err(|e| ApiError::Internal(e.into()))?,
    }
    let scope = format!("{}{}", shows.join(", "), if live { " + live" } else { "" });
    audit(
        &catalog,
        &op.who,
        "token.create",
        format!("{name} ({scope})"),
    )
    .await;
    let body = format!(
        "<p class=\"ok\" role=\"status\">{created}</p>\
         <div class=\"secret\"><code id=\"secret\">{secret}</code> \
         <button type=\"button\" class=\"copy\" data-copy=\"secret\" data-done=\"{copied}\">{copy}</button></div>\
         <p class=\"error\">{once}</p><h2>{for_volunteer}</h2>\
         <textarea id=\"instructions\" rows=\"14\" readonly>{instructions}</textarea>\
         <p><button type=\"button\" class=\"copy\" data-copy=\"instructions\" data-done=\"{copied}\">{copy_all}</button> \
         <a href=\"/console/tokens?lang={code}\">{back}</a></p>",
        created = t(lang, "token_created"),
        secret = esc(&secret),
        copy = t(lang, "copy"),
        copied = t(lang, "copied"),
        once = t(lang, "shown_once"),
        for_volunteer = t(lang, "for_volunteer"),
        instructions = esc(&instructions(lang, &config, &name, &shows, live, &secret)),
        copy_all = t(lang, "copy_all"),
        code = lang.code(),
        back = t(lang, "back_tokens"),
    );
    Ok(page::render(
        StatusCode::CREATED,
        &frame(op, t(lang, "token_created_title")),
        &body,
    ))
}

/// What to give the volunteer with the token: where to upload, and how to go live.
fn instructions(
    lang: Lang,
    config: &HttpConfig,
    name: &str,
    shows: &[String],
    live: bool,
    secret: &str,
) -> String {
    let url = &config.public_url;
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    let shows = shows.join(", ");
    let mut s = match lang {
        Lang::Fr => format!(
            "Bonjour {name},\n\nVoici votre jeton pour la radio (émissions : {shows}) :\n{secret}\n\n\
             Gardez-le pour vous : il remplace un mot de passe.\n\n\
             Envoyer un épisode : ouvrez {url}/upload , collez le jeton, choisissez l'émission, \
             le titre et le fichier, puis « Envoyer ». L'envoi reprend tout seul après une coupure.\n"
        ),
        Lang::En => format!(
            "Hello {name},\n\nHere is your token for the radio (shows: {shows}):\n{secret}\n\n\
             Keep it to yourself: it is a password.\n\n\
             To upload an episode: open {url}/upload , paste the token, pick the show, the title \
             and the file, then \"Upload\". The upload resumes by itself after a cut.\n"
        ),
    };
    if live {
        let port = config.live_port;
        s.push_str(&match lang {
            Lang::Fr => format!(
                "\nPasser en direct (BUTT, Mixxx) pendant votre émission : serveur Icecast, \
                 adresse {host}, port {port}, point de montage /live, utilisateur : le nom court \
                 de l'émission ({shows}), mot de passe : ce jeton. Détails : {url}/live\n"
            ),
            Lang::En => format!(
                "\nGoing live (BUTT, Mixxx) during your show: Icecast server, address {host}, \
                 port {port}, mount /live, user: the show's short name ({shows}), password: this \
                 token. Details: {url}/live\n"
            ),
        });
    }
    s
}

/// `POST /console/tokens/revoke` (`name`): refused from now on, its sessions ended.
pub async fn revoke(
    State(catalog): State<CatalogAccess>,
    State(console): State<Console>,
    State(on_air): State<OnAir>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let op = &posted.op;
    let name = posted.get("name").to_owned();
    let n = name.clone();
    let done = catalog
        .with_catalog(move |c| c.revoke_token(&n, jiff::Timestamp::now()))
        .await?;
    if !done {
        return list_page(
            op,
            &catalog,
            &on_air,
            StatusCode::NOT_FOUND,
            Some(format!("{name:?} : {}", t(op.lang, "token_unknown"))),
        )
        .await;
    }
    console.end_sessions_of(&name);
    audit(&catalog, &op.who, "token.revoke", name.clone()).await;
    tracing::info!(who = %op.who, token = %name, "token revoked from the console");
    Ok(page::see_other(&format!(
        "/console/tokens?lang={}",
        op.lang.code()
    )))
}
