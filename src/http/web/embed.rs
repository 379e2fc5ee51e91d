//! `/embed/player` and `/embed/programme`: small pages other sites put in an `<iframe>` (a
//! centre's own site, a partner's blog). The player is the page's on-air box (now and next,
//! refreshed by `app.js`, and the live player); the programme is today and the next six
//! days. Links open the station's site in a new tab.
//!
//! These two are the only pages that may be framed: their CSP's `frame-ancestors` is the
//! `embed_ancestors` setting (default `*`), while every other response refuses framing
//! (`frame-ancestors 'none'` and `X-Frame-Options: DENY`, see [`crate::http::router`]).

use std::fmt::Write;

use super::render::{PageData, on_air, programme};
use super::{Lang, esc};

/// The document around an embed's content.
fn page(d: &PageData, title: &str, content: &str) -> String {
    let name = d.station_name();
    let mut out = format!(
        "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <base target=\"_blank\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · {name}</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n\
         <script src=\"/static/app.js\" defer></script>\n</head>\n<body class=\"embed\">\n<main>\n\
         <p class=\"brand\"><a href=\"{home}\">{name}</a></p>\n",
        code = d.lang.code(),
        title = esc(title),
        name = esc(&name),
        home = esc(&format!(
            "{}/{}",
            d.public_url,
            if d.lang == Lang::En { "?lang=en" } else { "" }
        )),
    );
    out.push_str(content);
    let _ = write!(out, "</main>\n</body>\n</html>\n");
    out
}

/// The live player with what is on air now and next.
pub fn player(d: &PageData) -> String {
    page(d, d.lang.t("listen_live"), &on_air(d))
}

/// Today and the week.
pub fn week(d: &PageData) -> String {
    page(
        d,
        d.lang.t("programme"),
        &programme(d, d.lang.t("programme")),
    )
}
