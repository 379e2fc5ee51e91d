//! HTML of the pages. Plain `format!` over escaped values: every dynamic value goes through
//! [`esc`] (or is a number or a fixed string), so hostile titles stay text.

use std::fmt::Write;
use std::sync::Arc;

use jiff::{Timestamp, ToSpan};

use super::{Lang, esc};
use crate::catalog::{Episode, EpisodeQuery, EpisodeStatus};
use crate::feed::ArtworkFormat;
use crate::feed::text::long_date;
use crate::http::ApiError;
use crate::http::episodes::audio_path;
use crate::http::state::{CatalogAccess, OnAir};
use crate::schedule::{Occurrence, Schedule};

/// Episodes shown per show on the station page.
const LATEST_PER_SHOW: u32 = 3;

/// What a page needs, gathered once.
pub struct PageData {
    pub lang: Lang,
    pub public_url: String,
    pub schedule: Option<Arc<Schedule>>,
    pub now: Timestamp,
    /// Occurrences from the start of today (local) for 7 days.
    pub week: Vec<Occurrence>,
    /// (show slug, its latest ready episodes).
    pub episodes: Vec<(String, Vec<Episode>)>,
    /// The show of a show page.
    pub show: Option<String>,
    /// The HLS playlist's path and where hls.js is, when the station has HLS ("listen from
    /// the start").
    pub hls: Option<(String, String)>,
}

impl PageData {
    pub async fn load(
        on_air: &OnAir,
        catalog: &CatalogAccess,
        public_url: &str,
        lang: Lang,
        show: Option<String>,
    ) -> Result<PageData, ApiError> {
        let mut data = PageData::programme(on_air, public_url, lang, show);
        let mut slugs: Vec<String> = data
            .schedule
            .iter()
            .flat_map(|s| s.shows().iter().map(|sh| sh.slug.clone()))
            .collect();
        if let Some(one) = &data.show {
            slugs.retain(|s| s == one);
        }
        let limit = if data.show.is_some() {
            100
        } else {
            LATEST_PER_SHOW
        };
        data.episodes = catalog
            .with_catalog(move |c| {
                slugs
                    .into_iter()
                    .map(|slug| {
                        let q = EpisodeQuery {
                            show: Some(slug.clone()),
                            status: Some(EpisodeStatus::Ready),
                            limit: Some(limit),
                            ..Default::default()
                        };
                        c.list_episodes(&q).map(|e| (slug, e))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(data)
    }

    /// The schedule's part only (no episodes): the on-air box and the week, for the embeds.
    pub fn programme(
        on_air: &OnAir,
        public_url: &str,
        lang: Lang,
        show: Option<String>,
    ) -> PageData {
        let now = Timestamp::now();
        let s = on_air.current_schedule();
        let tz = s.station().timezone.clone();
        let today = now.to_zoned_datetime(tz.clone()).date();
        let mut week = match (
            today.to_zoned_datetime(tz.clone()),
            today.saturating_add(7.days()).to_zoned_datetime(tz),
        ) {
            (Ok(from), Ok(to)) => s.occurrences(from.timestamp(), to.timestamp()),
            _ => Vec::new(),
        };
        if let Some(one) = &show {
            week.retain(|o| &o.show == one);
        }
        PageData {
            lang,
            public_url: public_url.to_owned(),
            schedule: Some(s),
            now,
            week,
            episodes: Vec::new(),
            show,
            hls: None,
        }
    }

    pub(super) fn station_name(&self) -> String {
        self.schedule
            .as_ref()
            .map(|s| s.station().name.clone())
            .unwrap_or_else(|| "Antenne".into())
    }

    fn show_title(&self, slug: &str) -> String {
        self.schedule
            .as_ref()
            .and_then(|s| s.show(slug))
            .map(|s| s.title.clone())
            .unwrap_or_else(|| slug.to_string())
    }

    fn link(&self, path: &str) -> String {
        link(self.lang, path)
    }

    fn hm(&self, t: Timestamp) -> String {
        match &self.schedule {
            Some(s) => t
                .to_zoned_datetime(s.station().timezone.clone())
                .strftime("%H:%M")
                .to_string(),
            None => t.strftime("%H:%M").to_string(),
        }
    }
}

/// A site path in the page's language (English keeps `?lang=en`).
fn link(lang: Lang, path: &str) -> String {
    match lang {
        Lang::Fr => path.to_string(),
        Lang::En => format!("{path}?lang=en"),
    }
}

pub(super) fn head(lang: Lang, title: &str, station: &str, path: &str) -> String {
    let other = match lang {
        Lang::Fr => format!("{path}?lang=en"),
        Lang::En => format!("{path}?lang=fr"),
    };
    let other_code = match lang {
        Lang::Fr => "en",
        Lang::En => "fr",
    };
    format!(
        "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"{station}\" href=\"/feed.xml\">\n\
         <link rel=\"alternate\" type=\"text/calendar\" title=\"{station}\" href=\"/programme.ics\">\n\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n\
         <script src=\"/static/app.js\" defer></script>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">{skip}</a>\n\
         <header class=\"site\"><p class=\"brand\"><a href=\"{home}\">{station}</a></p>\n\
         <nav aria-label=\"Navigation\"><a href=\"{home}\">{home_t}</a> <a href=\"{up}\">{up_t}</a> \
         <a href=\"{live}\">{live_t}</a> \
         <a href=\"{other}\" lang=\"{other_code}\" hreflang=\"{other_code}\">{switch}</a></nav></header>\n\
         <main id=\"main\">\n",
        code = lang.code(),
        title = esc(title),
        station = esc(station),
        skip = lang.t("skip"),
        home = link(lang, "/"),
        home_t = lang.t("home"),
        up = link(lang, "/upload"),
        up_t = lang.t("upload"),
        live = link(lang, "/live"),
        live_t = lang.t("go_live"),
        other = esc(&other),
        switch = lang.t("lang_switch"),
    )
}

pub(super) fn foot(lang: Lang) -> String {
    format!(
        "</main>\n<footer class=\"site\"><p>{}</p><p><a href=\"/feed.xml\">{}</a></p></footer>\n</body>\n</html>\n",
        lang.t("footer"),
        lang.t("all_shows_feed")
    )
}

/// The on-air box: now and next, refreshed by app.js from `/api/now`.
pub(super) fn on_air(d: &PageData) -> String {
    let l = d.lang;
    let (now, next) = match &d.schedule {
        Some(s) => {
            let now = s.slot_at(d.now);
            let after = now.as_ref().map(|o| o.end).unwrap_or(d.now);
            let next = s
                .occurrences(
                    after,
                    after
                        .saturating_add(jiff::SignedDuration::from_hours(24 * 8))
                        .unwrap_or(after),
                )
                .into_iter()
                .find(|o| o.start >= after);
            (now, next)
        }
        None => (None, None),
    };
    let line = |o: Option<&Occurrence>| match o {
        Some(o) => format!(
            "<a href=\"{}\">{}</a> <span class=\"when\">{}–{}</span>",
            esc(&d.link(&format!("/shows/{}", o.show))),
            esc(&d.show_title(&o.show)),
            d.hm(o.start),
            d.hm(o.end)
        ),
        None => l.t("nothing").to_string(),
    };
    format!(
        "<section class=\"onair\" aria-labelledby=\"onair-h\" data-now-url=\"/api/now\" data-tz=\"{tz}\">\n\
         <h2 id=\"onair-h\">{on_air}</h2>\n<dl>\n<dt>{now_t}</dt><dd id=\"now\" aria-live=\"polite\">{now}</dd>\n\
         <dt>{next_t}</dt><dd id=\"next\">{next}</dd>\n</dl>\n\
         <p id=\"listeners\" class=\"listeners\" hidden></p>\n\
         <div class=\"live\"><label for=\"live\">{listen}</label>\n\
         <audio id=\"live\" controls preload=\"none\" src=\"/stream\" aria-label=\"{player}\"></audio></div>\n\
         {from_start}</section>\n",
        on_air = l.t("on_air"),
        now_t = l.t("now"),
        next_t = l.t("next"),
        now = line(now.as_ref()),
        next = line(next.as_ref()),
        listen = l.t("listen_live"),
        player = l.t("live_player"),
        // Shown by app.js while something is on air (it knows the start from /api/now).
        from_start = d
            .hls
            .as_ref()
            .map_or(String::new(), |(playlist, hls_js)| format!(
                "<p class=\"from-start\"><button id=\"from-start\" type=\"button\" hidden \
             data-hls=\"{}\" data-hlsjs=\"{}\">{}</button></p>\n",
                esc(playlist),
                esc(hls_js),
                l.t("from_start")
            )),
        tz = esc(d
            .schedule
            .as_ref()
            .map(|s| s.station().tz_name.as_str())
            .unwrap_or("UTC")),
    )
}

/// The week's programme, one column per day on wide screens, stacked on phones.
pub(super) fn programme(d: &PageData, heading: &str) -> String {
    let l = d.lang;
    let Some(s) = &d.schedule else {
        return format!(
            "<section aria-labelledby=\"prog-h\"><h2 id=\"prog-h\">{}</h2><p>{}</p></section>\n",
            esc(heading),
            l.t("no_schedule")
        );
    };
    let tz = s.station().timezone.clone();
    let today = d.now.to_zoned_datetime(tz.clone()).date();
    let mut out = format!(
        "<section aria-labelledby=\"prog-h\"><h2 id=\"prog-h\">{} <small>({})</small></h2>\n<div class=\"week\">\n",
        esc(heading),
        esc(&s.station().tz_name)
    );
    for i in 0..7 {
        let day = today.saturating_add(i.days());
        let _ = write!(
            out,
            "<section class=\"day\"><h3>{}</h3>\n<ol>\n",
            esc(&l.day(day))
        );
        let mut any = false;
        for o in d
            .week
            .iter()
            .filter(|o| o.start.to_zoned_datetime(tz.clone()).date() == day)
        {
            any = true;
            let current = o.start <= d.now && d.now < o.end;
            let _ = writeln!(
                out,
                "<li{cur}><time datetime=\"{start}\">{hm}</time>–<time datetime=\"{end}\">{hm_end}</time> \
                 <a href=\"{href}\">{title}</a></li>",
                cur = if current {
                    " class=\"current\" aria-current=\"true\""
                } else {
                    ""
                },
                start = o.start,
                end = o.end,
                hm = d.hm(o.start),
                hm_end = d.hm(o.end),
                href = esc(&d.link(&format!("/shows/{}", o.show))),
                title = esc(&d.show_title(&o.show)),
            );
        }
        if !any {
            let _ = writeln!(out, "<li class=\"empty\">{}</li>", l.t("no_slot"));
        }
        out.push_str("</ol></section>\n");
    }
    out.push_str("</div></section>\n");
    out
}

/// The calendar of `path` (`/programme.ics`, `/shows/{slug}.ics`): `webcal://` subscribes in
/// calendar apps (and stays up to date), the plain link downloads the file.
fn calendar_links(d: &PageData, path: &str) -> String {
    let l = d.lang;
    let abs = format!("{}{path}", d.public_url);
    let bare = abs
        .strip_prefix("https://")
        .or_else(|| abs.strip_prefix("http://"))
        .unwrap_or(&abs);
    format!(
        "<p class=\"calendar\"><a href=\"webcal://{bare}\">{add}</a> \
         <a href=\"{path}\" type=\"text/calendar\">{file}</a></p>\n",
        bare = esc(bare),
        add = l.t("add_calendar"),
        path = esc(path),
        file = l.t("ics_file"),
    )
}

/// The artwork's path for `base` (`/cover`, `/shows/{slug}/cover`): the file the schedule
/// names, or the generated PNG; `None` for an artwork elsewhere (the page loads nothing
/// from other sites).
fn artwork_src(artwork: Option<&str>, base: &str) -> Option<String> {
    match artwork {
        None => Some(format!("{base}.png")),
        Some(a) if a.starts_with("http://") || a.starts_with("https://") => None,
        Some(a) => Some(format!("{base}.{}", ArtworkFormat::of(a).ext())),
    }
}

/// The page's title with its artwork beside it.
fn intro(title: &str, lead: Option<&str>, artwork: Option<String>) -> String {
    let img = artwork
        .map(|src| {
            format!(
                "<img class=\"artwork\" src=\"{}\" alt=\"\" width=\"160\" height=\"160\">",
                esc(&src)
            )
        })
        .unwrap_or_default();
    let lead = lead
        .map(|l| format!("<p class=\"lead\">{}</p>", esc(l)))
        .unwrap_or_default();
    format!(
        "<div class=\"intro\">{img}<div><h1>{}</h1>{lead}</div></div>\n",
        esc(title)
    )
}

/// Subscribe links of a show: RSS, Apple's `podcast://` and the `pcast://` scheme.
fn subscribe(d: &PageData, slug: &str) -> String {
    let l = d.lang;
    let path = format!("/shows/{slug}/feed.xml");
    let abs = format!("{}{path}", d.public_url);
    let bare = abs
        .strip_prefix("https://")
        .or_else(|| abs.strip_prefix("http://"))
        .unwrap_or(&abs);
    format!(
        "<p class=\"subscribe\"><span>{sub}{colon}</span> <a href=\"{rss}\" type=\"application/rss+xml\">{rss_t}</a> \
         <a href=\"podcast://{bare}\">{apple}</a> <a href=\"pcast://{bare}\">{pcast}</a></p>\n",
        sub = l.t("subscribe"),
        // French puts a (non-breaking) space before a colon, English none.
        colon = if l == Lang::Fr { "\u{a0}:" } else { ":" },
        rss = esc(&path),
        rss_t = l.t("rss"),
        bare = esc(bare),
        apple = l.t("apple"),
        pcast = l.t("pcast"),
    )
}

fn episode_item(d: &PageData, e: &Episode) -> String {
    let url = audio_path(&e.id);
    let minutes = e.duration_ms.map(|ms| ms.div_ceil(60_000)).unwrap_or(0);
    // The feed's publication date: the recording date given, else the day it was received.
    let date = e
        .date
        .as_deref()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .unwrap_or_else(|| match &d.schedule {
            Some(s) => s.station().timezone.to_datetime(e.created_at).date(),
            None => e
                .created_at
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date(),
        });
    format!(
        "<li class=\"episode\"><h4>{title}</h4>\n<p class=\"meta\"><time datetime=\"{iso}\">{date}</time> · {minutes} {min}</p>\n\
         <audio controls preload=\"none\" src=\"{url}\" aria-label=\"{title}\"></audio>\n\
         <p><a href=\"{url}\" download>{dl}</a></p>{desc}</li>\n",
        title = esc(&e.title),
        iso = date,
        date = long_date(date, d.lang == Lang::En),
        min = d.lang.t("minutes"),
        url = esc(&url),
        dl = d.lang.t("download"),
        desc = if e.description.is_empty() {
            String::new()
        } else {
            format!("<p class=\"desc\">{}</p>", esc(&e.description))
        },
    )
}

fn episode_list(d: &PageData, episodes: &[Episode]) -> String {
    if episodes.is_empty() {
        return format!("<p>{}</p>\n", d.lang.t("no_episodes"));
    }
    let mut out = String::from("<ul class=\"episodes\">\n");
    for e in episodes {
        out.push_str(&episode_item(d, e));
    }
    out.push_str("</ul>\n");
    out
}

pub fn station(d: &PageData) -> String {
    let l = d.lang;
    let name = d.station_name();
    let mut out = head(l, &name, &name, "/");
    let station = d.schedule.as_ref().map(|s| s.station());
    out.push_str(&intro(
        &name,
        station.and_then(|s| s.description.as_deref()),
        artwork_src(station.and_then(|s| s.artwork.as_deref()), "/cover"),
    ));
    out.push_str(&on_air(d));
    out.push_str(&programme(d, l.t("programme")));
    out.push_str(&calendar_links(d, "/programme.ics"));
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"latest-h\"><h2 id=\"latest-h\">{}</h2>",
        l.t("latest")
    );
    for (slug, episodes) in &d.episodes {
        let _ = writeln!(
            out,
            "<article class=\"show\"><h3><a href=\"{}\">{}</a></h3>",
            esc(&d.link(&format!("/shows/{slug}"))),
            esc(&d.show_title(slug))
        );
        out.push_str(&subscribe(d, slug));
        out.push_str(&episode_list(d, episodes));
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
    out.push_str(&foot(l));
    out
}

pub fn show(d: &PageData) -> String {
    let l = d.lang;
    let slug = d.show.clone().unwrap_or_default();
    let info = d.schedule.as_ref().and_then(|s| s.show(&slug).cloned());
    let title = d.show_title(&slug);
    let mut out = head(
        l,
        &format!("{title} · {}", d.station_name()),
        &d.station_name(),
        &format!("/shows/{slug}"),
    );
    out.push_str(&intro(
        &title,
        info.as_ref().and_then(|i| i.description.as_deref()),
        artwork_src(
            info.as_ref().and_then(|i| i.artwork.as_deref()),
            &format!("/shows/{slug}/cover"),
        ),
    ));
    if let Some(info) = &info
        && !info.hosts.is_empty()
    {
        let _ = writeln!(
            out,
            "<p class=\"hosts\">{}</p>",
            esc(&info.hosts.join(", "))
        );
    }
    out.push_str(&subscribe(d, &slug));
    out.push_str(&programme(d, l.t("slots")));
    out.push_str(&calendar_links(d, &format!("/shows/{slug}.ics")));
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"eps-h\"><h2 id=\"eps-h\">{}</h2>",
        l.t("episodes")
    );
    let episodes = d
        .episodes
        .iter()
        .find(|(s, _)| *s == slug)
        .map(|(_, e)| e.as_slice())
        .unwrap_or_default();
    out.push_str(&episode_list(d, episodes));
    out.push_str("</section>\n");
    out.push_str(&foot(l));
    out
}

pub fn not_found(on_air: &OnAir, lang: Lang) -> String {
    let name = Some(on_air.current_schedule())
        .map(|s| s.station().name.clone())
        .unwrap_or_else(|| "Antenne".into());
    let msg = match lang {
        Lang::Fr => "Cette page n'existe pas.",
        Lang::En => "This page does not exist.",
    };
    let mut out = head(lang, msg, &name, "/");
    let _ = writeln!(out, "<h1>{msg}</h1>");
    out.push_str(&foot(lang));
    out
}

/// Strings the upload script needs, as JSON (not executed; `<` escaped).
fn upload_strings(lang: Lang) -> String {
    let (fr, en) = (lang == Lang::Fr, lang == Lang::En);
    let pick = |f: &'static str, e: &'static str| if fr || !en { f } else { e };
    let v = serde_json::json!({
        "uploading": pick("Envoi en cours…", "Uploading…"),
        "retrying": pick("Connexion perdue, nouvelle tentative…", "Connection lost, retrying…"),
        "queued": pick("Reçu : en attente de traitement.", "Received: waiting to be processed."),
        "processing": pick("Traitement en cours (mesure du volume, encodage)…", "Processing (loudness, encoding)…"),
        "ready": pick("Prêt : l'épisode est publié.", "Ready: the episode is published."),
        "failed": pick("Échec du traitement :", "Processing failed:"),
        "error": pick("Erreur :", "Error:"),
        "token_missing": pick("Indiquez votre jeton d'envoi.", "Enter your upload token."),
        "bad_token": pick("Jeton refusé.", "Token refused."),
        "forbidden": pick("Ce jeton ne permet pas d'envoyer pour cette émission.", "This token may not upload to this show."),
        "too_large": pick("Fichier trop gros.", "File too large."),
        "duplicate": pick("Ce fichier a déjà été envoyé.", "This file was already uploaded."),
        "report": pick("Rapport de volume", "Loudness report"),
        "before": pick("Avant", "Before"),
        "after": pick("Après", "After"),
        "integrated": pick("Volume intégré", "Integrated loudness"),
        "range": pick("Plage de volume", "Loudness range"),
        "peak": pick("Crête vraie", "True peak"),
        "gain": pick("Gain appliqué", "Gain applied"),
        "listen": pick("Écouter", "Listen"),
    });
    v.to_string().replace('<', "\\u003c")
}

pub fn upload(on_air: &OnAir, lang: Lang) -> String {
    let schedule = Some(on_air.current_schedule());
    let name = schedule
        .as_ref()
        .map(|s| s.station().name.clone())
        .unwrap_or_else(|| "Antenne".into());
    let l = lang;
    let mut out = head(l, &format!("{} · {name}", l.t("upload")), &name, "/upload");
    let _ = writeln!(out, "<h1>{}</h1>", l.t("upload"));
    let errors = on_air.schedule_errors();
    if !errors.is_empty() {
        let _ = write!(
            out,
            "<details class=\"errors\"><summary>{}</summary><pre>",
            l.t("schedule_errors")
        );
        for e in &errors {
            let _ = writeln!(out, "{}\n", esc(e));
        }
        out.push_str("</pre></details>\n");
    }
    let _ = writeln!(
        out,
        "<noscript><p class=\"warn\">{}</p></noscript>",
        l.t("needs_js")
    );
    let mut options = String::new();
    for sh in schedule.iter().flat_map(|s| s.shows().iter()) {
        let _ = write!(
            options,
            "<option value=\"{}\">{}</option>",
            esc(&sh.slug),
            esc(&sh.title)
        );
    }
    let opt = l.t("optional");
    let _ = write!(
        out,
        "<form id=\"upload\" class=\"upload\" novalidate>\n\
<script type=\"application/json\" id=\"strings\">{strings}</script>\n\
<p><label for=\"token\">{token}</label>\n<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required aria-describedby=\"token-help\">\n\
<small id=\"token-help\">{token_help}</small>\n\
<label class=\"inline\"><input id=\"remember\" type=\"checkbox\" checked> {remember}</label></p>\n\
<p><label for=\"show\">{show}</label>\n<select id=\"show\" name=\"show\" required>{options}</select></p>\n\
<p><label for=\"title\">{title}</label>\n<input id=\"title\" name=\"title\" required maxlength=\"300\"></p>\n\
<p><label for=\"description\">{desc} <small>({opt})</small></label>\n<textarea id=\"description\" name=\"description\" rows=\"4\"></textarea></p>\n\
<div class=\"row\"><p><label for=\"date\">{date} <small>({opt})</small></label>\n<input id=\"date\" name=\"date\" type=\"date\"></p>\n\
<p><label for=\"season\">{season} <small>({opt})</small></label>\n<input id=\"season\" name=\"season\" type=\"number\" min=\"1\" inputmode=\"numeric\"></p>\n\
<p><label for=\"episode\">{episode} <small>({opt})</small></label>\n<input id=\"episode\" name=\"episode\" type=\"number\" min=\"1\" inputmode=\"numeric\"></p></div>\n\
<p><label for=\"file\">{file}</label>\n<input id=\"file\" name=\"file\" type=\"file\" accept=\"audio/*,.wav,.flac,.mp3,.m4a,.ogg,.opus,.aif,.aiff\" required aria-describedby=\"file-help\">\n\
<small id=\"file-help\">{file_help}</small></p>\n\
<p><label for=\"transcript\">{transcript} <small>({opt})</small></label>\n<input id=\"transcript\" name=\"transcript\" type=\"file\" accept=\".vtt,.srt,text/vtt\"></p>\n\
<p><label for=\"chapters\">{chapters} <small>({opt})</small></label>\n<input id=\"chapters\" name=\"chapters\" type=\"file\" accept=\".json,application/json\"></p>\n\
<p><button type=\"submit\" id=\"send\">{send}</button></p>\n\
<p><label for=\"bar\">{progress}</label>\n<progress id=\"bar\" max=\"100\" value=\"0\"></progress> <span id=\"percent\">0 %</span></p>\n\
<div id=\"status\" role=\"status\" aria-live=\"polite\"></div>\n\
<div id=\"report\"></div>\n</form>\n\
<script src=\"/static/upload.js\" defer></script>\n",
        strings = upload_strings(l),
        token = l.t("token"),
        token_help = l.t("token_help"),
        remember = l.t("remember"),
        show = l.t("show"),
        title = l.t("title"),
        desc = l.t("description"),
        date = l.t("date"),
        season = l.t("season"),
        episode = l.t("episode"),
        file = l.t("file"),
        file_help = l.t("file_help"),
        transcript = l.t("transcript"),
        chapters = l.t("chapters"),
        send = l.t("send"),
        progress = l.t("progress"),
    );
    out.push_str(&foot(l));
    out
}
