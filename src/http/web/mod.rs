//! The station's web page: server-rendered HTML, readable without JavaScript, with a little
//! vanilla JS (no build step) for the live now/next refresh and for uploads.
//!
//! - `/`: the station, on air now and next, the live player, the week's programme in the
//!   station's time zone, the latest episodes per show, subscribe links;
//! - `/shows/{slug}`: one show, its slots this week and its episodes;
//! - `/upload`: the volunteers' upload form (resumable, with progress and the loudness report);
//! - `/live`: what volunteers type into BUTT or Mixxx to go live, and the coming live shows;
//! - `/embed/player`, `/embed/programme`: the on-air box and the week, for other sites'
//!   iframes (`embed.rs`);
//! - `/static/*`, `/favicon.svg`: the stylesheet, scripts and icon, compiled into the binary.
//!
//! French by default, English with `?lang=en` or `Accept-Language`. Every value written into
//! the HTML goes through [`esc`]; the pages carry a CSP that forbids inline script.

mod embed;
mod i18n;
mod live;
mod render;

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use i18n::Lang;

use super::ApiError;
use crate::http::hls::HlsAccess;
use crate::http::state::{CatalogAccess, HttpConfig, OnAir};

const CSS: &str = include_str!("style.css");
const APP_JS: &str = include_str!("app.js");
const UPLOAD_JS: &str = include_str!("upload.js");
const FAVICON: &str = include_str!("favicon.svg");

/// Escapes text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn lang(q: &LangQuery, headers: &HeaderMap) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(q.lang.as_deref(), accept)
}

fn html(status: StatusCode, body: String) -> Response {
    html_framed_by(status, body, "'none'")
}

/// An HTML response whose CSP lets `ancestors` (a `frame-ancestors` source list) frame it.
fn html_framed_by(status: StatusCode, body: String, ancestors: &str) -> Response {
    // `blob:` and `data:` media: hls.js plays "from the start" through a MediaSource blob and
    // probes captions with an empty `data:` WebVTT track.
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         media-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp)
            .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// `GET /`: the station page.
pub async fn station(
    State(on_air): State<OnAir>,
    State(catalog): State<CatalogAccess>,
    State(config): State<Arc<HttpConfig>>,
    State(hls): State<HlsAccess>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = lang(&q, &headers);
    let mut data =
        render::PageData::load(&on_air, &catalog, &config.public_url, lang, None).await?;
    data.hls = hls
        .0
        .is_some()
        .then(|| ("/hls/live.m3u8".to_owned(), config.hls_js_url.clone()));
    Ok(html(StatusCode::OK, render::station(&data)))
}

/// `GET /shows/{slug}`: one show; `/shows/{slug}.ics` is its calendar (the router matches
/// no suffix after a parameter).
pub async fn show(
    State(on_air): State<OnAir>,
    State(catalog): State<CatalogAccess>,
    State(config): State<Arc<HttpConfig>>,
    Path(slug): Path<String>,
    Query(q): Query<LangQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(show) = slug.strip_suffix(".ics") {
        let show = Some(show.to_owned());
        return Ok(crate::http::calendar::respond(&on_air, &config, show, &method, &headers).await);
    }
    let lang = lang(&q, &headers);
    let known = on_air.current_schedule().show(&slug).is_some();
    if !known {
        return Ok(html(
            StatusCode::NOT_FOUND,
            render::not_found(&on_air, lang),
        ));
    }
    let data =
        render::PageData::load(&on_air, &catalog, &config.public_url, lang, Some(slug)).await?;
    Ok(html(StatusCode::OK, render::show(&data)))
}

/// `GET /live`: going live, for volunteers.
pub async fn live(
    State(on_air): State<OnAir>,
    State(config): State<Arc<HttpConfig>>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    let port = config.live_port;
    html(
        StatusCode::OK,
        live::page(&on_air, &config.public_url, port, lang),
    )
}

/// `GET /upload`: the volunteers' form.
pub async fn upload(
    State(on_air): State<OnAir>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&q, &headers);
    html(StatusCode::OK, render::upload(&on_air, lang))
}

/// `GET /embed/player`: the live player and what is on air, for other sites' iframes.
pub async fn embed_player(
    State(on_air): State<OnAir>,
    State(config): State<Arc<HttpConfig>>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let d = render::PageData::programme(&on_air, &config.public_url, lang(&q, &headers), None);
    html_framed_by(StatusCode::OK, embed::player(&d), &config.embed_ancestors)
}

/// `GET /embed/programme`: today and the week, for other sites' iframes.
pub async fn embed_programme(
    State(on_air): State<OnAir>,
    State(config): State<Arc<HttpConfig>>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let d = render::PageData::programme(&on_air, &config.public_url, lang(&q, &headers), None);
    html_framed_by(StatusCode::OK, embed::week(&d), &config.embed_ancestors)
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

pub async fn style_css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

pub async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

pub async fn upload_js() -> Response {
    asset("text/javascript; charset=utf-8", UPLOAD_JS)
}

pub async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON)
}

#[cfg(test)]
mod tests {
    #[test]
    fn esc_escapes_markup_and_quotes() {
        assert_eq!(
            super::esc("<a href=\"x\">'&'</a>\u{7}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
