//! `GET /live`: what a volunteer types into BUTT or Mixxx to go on air (server, port, mount,
//! user, password, format), and the live shows of the next two weeks with each show's short
//! name, the user to give.

use std::fmt::Write;

use jiff::ToSpan;

use super::render::{foot, head};
use super::{Lang, esc};
use crate::http::state::OnAir;
use crate::schedule::Play;

/// The page; `public_url` gives the address, `port` the live input's port.
pub fn page(on_air: &OnAir, public_url: &str, port: u16, lang: Lang) -> String {
    let l = lang;
    let schedule = on_air.current_schedule();
    let name = schedule.station().name.clone();
    let mut out = head(l, &format!("{} · {name}", l.t("go_live")), &name, "/live");
    let host = public_url
        .split("://")
        .nth(1)
        .unwrap_or(public_url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p>{}</p>",
        l.t("go_live"),
        l.t("live_intro")
    );
    let _ = writeln!(
        out,
        "<h2>{}</h2>\n<dl class=\"settings\">",
        l.t("live_settings")
    );
    let rows = [
        ("live_type", "Icecast".to_owned()),
        ("live_address", esc(host)),
        ("live_port", port.to_string()),
        ("live_mount", "<code>/live</code>".to_owned()),
        ("live_user", l.t("live_user_value").to_owned()),
        ("live_password", l.t("live_password_value").to_owned()),
        ("live_format", l.t("live_format_value").to_owned()),
    ];
    for (key, value) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd>{value}</dd>", l.t(key));
    }
    out.push_str("</dl>\n");
    let _ = writeln!(out, "<h2>{}</h2>", l.t("live_next"));
    let now = jiff::Timestamp::now();
    let until = now.saturating_add(14.days()).unwrap_or(now);
    let tz = &schedule.station().timezone;
    let live: Vec<_> = schedule
        .occurrences(now, until)
        .into_iter()
        .filter(|o| o.play == Play::Live)
        .collect();
    if live.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", l.t("live_none"));
    } else {
        out.push_str("<ul class=\"live\">\n");
        for o in live {
            let title = schedule
                .show(&o.show)
                .map_or(o.show.as_str(), |s| s.title.as_str());
            let start = tz.to_datetime(o.start);
            let end = tz.to_datetime(o.end);
            let _ = writeln!(
                out,
                "<li><strong>{}</strong> — {} {:02}:{:02}–{:02}:{:02} · {} <code>{}</code></li>",
                esc(title),
                l.day(start.date()),
                start.hour(),
                start.minute(),
                end.hour(),
                end.minute(),
                l.t("live_user"),
                esc(&o.show),
            );
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(out, "<p>{}</p>", l.t("live_refused"));
    out.push_str(&foot(l));
    out
}
