//! From the spanned TOML tree to a [`Schedule`]: every section read, every error collected.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use jiff::SignedDuration;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use toml::de::{DeTable, DeValue};

use super::crontab;
use super::diag::{Sink, WithHint};
use super::fields::{Obj, Value, closest, date_value};
use super::recur;
use super::types::*;
use super::{Override, Schedule, Special};

/// Where things were written, for the checks that run on the built schedule.
#[derive(Default)]
pub(crate) struct Spans {
    pub(crate) slots: Vec<SlotSpans>,
    pub(crate) shows: Vec<Range<usize>>,
    /// Per override key, the exception's `date` value.
    pub(crate) overrides: HashMap<(usize, Date), Range<usize>>,
    pub(crate) specials: Vec<Range<usize>>,
    /// Every media path written, with its span.
    pub(crate) paths: Vec<(std::path::PathBuf, Range<usize>, bool)>,
    /// The ident settings that are on, with where they are written.
    pub(crate) idents: Vec<(&'static str, Range<usize>)>,
}

pub(crate) struct SlotSpans {
    pub(crate) header: Range<usize>,
    pub(crate) when: Range<usize>,
    pub(crate) duration: Range<usize>,
}

const TOP: &[&str] = &["station", "fallback", "show", "slot", "exception"];
const STATION: &[&str] = &[
    "name",
    "description",
    "timezone",
    "language",
    "website",
    "artwork",
    "author",
    "email",
    "location",
    "ident_every",
    "ident_at_show_start",
];
const SHOW: &[&str] = &[
    "slug",
    "title",
    "description",
    "hosts",
    "artwork",
    "category",
    "subcategory",
    "explicit",
    "language",
    "kind",
];
const SLOT: &[&str] = &[
    "id",
    "show",
    "days",
    "start",
    "cron",
    "weeks",
    "every",
    "anchor",
    "duration",
    "play",
    "playlist",
    "shuffle",
    "crossfade",
    "overrun",
    "underrun",
    "record",
];
const EXCEPTION: &[&str] = &[
    "id",
    "date",
    "slot",
    "cancel",
    "show",
    "start",
    "duration",
    "play",
    "playlist",
    "shuffle",
    "crossfade",
    "file",
    "overrun",
    "underrun",
    "record",
];
const FALLBACK: &[&str] = &["playlist", "ident", "shuffle", "crossfade"];

/// The longest crossfade a playlist may ask for.
const MAX_CROSSFADE: SignedDuration = SignedDuration::from_secs(30);
/// The shortest `ident_every`: more often than this is not identification but a jingle bed.
const MIN_IDENT_EVERY: SignedDuration = SignedDuration::from_mins(5);
const DAY: SignedDuration = SignedDuration::from_hours(24);

pub(crate) fn build(sink: &mut Sink<'_>, root: &DeTable<'_>) -> Option<(Schedule, Spans)> {
    for (k, _) in root.iter() {
        let key: &str = k.get_ref();
        if !TOP.contains(&key) {
            let d = sink.error(k.span(), format!("unknown section `{key}`"));
            match closest(key, TOP.iter().copied()) {
                Some(c) => d.hint(format!("did you mean `{c}`?")),
                None => d.hint(
                    "sections are [station], [fallback], [[show]], [[slot]] and [[exception]]",
                ),
            }
        }
    }
    let mut spans = Spans::default();
    let station = station(sink, root.get("station"), &mut spans);
    let fallback = fallback(sink, root.get("fallback"), &mut spans);
    let lang = station
        .as_ref()
        .map_or("fr", |s| s.language.as_str())
        .to_string();
    let show_items = array(sink, root.get("show"), "show");
    let slot_items = array(sink, root.get("slot"), "slot");
    let exception_items = array(sink, root.get("exception"), "exception");
    let shows = shows(sink, show_items, &lang, &mut spans);
    let slugs: Vec<&str> = shows.iter().map(|s| s.slug.as_str()).collect();
    let slots = slots(sink, slot_items, &slugs, &mut spans);
    let (overrides, specials) = exceptions(sink, exception_items, &slugs, &slots, &mut spans);
    if sink.has_errors() {
        return None;
    }
    let station = station?;
    let longest = slots
        .iter()
        .map(|s| s.duration)
        .chain(specials.iter().map(|s| s.duration))
        .chain(overrides.values().filter_map(|o| match o {
            Override::Replace { duration, .. } => Some(*duration),
            Override::Cancel => None,
        }))
        .max()
        .unwrap_or(SignedDuration::ZERO);
    Some((
        Schedule {
            station,
            shows,
            slots,
            overrides,
            specials,
            fallback,
            longest,
        },
        spans,
    ))
}

fn array<'a, 'i>(sink: &mut Sink<'_>, v: Option<&'a Value<'i>>, name: &str) -> &'a [Value<'i>] {
    match v.map(|v| (v, v.get_ref())) {
        None => &[],
        Some((_, DeValue::Array(a))) => a,
        Some((v, _)) => {
            sink.error(v.span(), format!("`{name}` must be an array of tables"))
                .hint(format!("write each entry under its own [[{name}]] header"));
            &[]
        }
    }
}

fn station(sink: &mut Sink<'_>, v: Option<&Value<'_>>, spans: &mut Spans) -> Option<Station> {
    let Some(v) = v else {
        sink.error(0..0, "the schedule needs a [station] section")
            .hint("[station] with at least name = \"...\"");
        return None;
    };
    let o = Obj::new(sink, v, "[station]", STATION)?;
    let name = o.required_string(sink, "name");
    let opt = |sink: &mut Sink<'_>, k| o.string(sink, k).map(|(s, _)| s);
    let (tz_name, timezone) = match o.string(sink, "timezone") {
        None if o.has("timezone") => return None,
        None => (
            "Europe/Paris".to_string(),
            TimeZone::get("Europe/Paris").ok()?,
        ),
        Some((n, span)) => match TimeZone::get(&n) {
            Ok(tz) => (n, tz),
            Err(_) => {
                sink.error(span, format!("unknown time zone `{n}`"))
                    .hint("an IANA name such as \"Europe/Paris\", \"America/Montreal\" or \"Australia/Sydney\"");
                return None;
            }
        },
    };
    let ident_every = ident_every(sink, &o, spans);
    let ident_at_show_start = o.boolean(sink, "ident_at_show_start").unwrap_or(false);
    if ident_at_show_start {
        spans
            .idents
            .push(("ident_at_show_start", o.span_of("ident_at_show_start")));
    }
    let language = match o.string(sink, "language") {
        Some((l, span)) => {
            if !valid_language(&l) {
                sink.error(span, format!("`{l}` is not a language code"))
                    .hint("an ISO 639 code such as \"fr\", \"en\" or \"fr-FR\"");
            }
            l
        }
        None => "fr".into(),
    };
    Some(Station {
        name: name?.0,
        description: opt(sink, "description"),
        timezone,
        tz_name,
        language,
        website: opt(sink, "website"),
        artwork: opt(sink, "artwork"),
        author: opt(sink, "author"),
        email: opt(sink, "email"),
        location: opt(sink, "location"),
        ident_every,
        ident_at_show_start,
    })
}

/// `ident_every`: a whole divisor of a day, five minutes or more, so that the marks fall on
/// the same wall times every day (`1h`: the top of each hour).
fn ident_every(sink: &mut Sink<'_>, o: &Obj<'_, '_>, spans: &mut Spans) -> Option<SignedDuration> {
    let (every, span) = o.length(sink, "ident_every", DAY)?;
    let divides =
        every.as_secs() > 0 && every.subsec_nanos() == 0 && DAY.as_secs() % every.as_secs() == 0;
    if every < MIN_IDENT_EVERY || !divides {
        sink.error(
            span,
            format!(
                "`ident_every` must divide a day into equal parts of 5 minutes or more, not \"{}\"",
                super::checks::human(every)
            ),
        )
        .hint(
            "e.g. \"15m\", \"30m\", \"1h\", \"2h\" or \"24h\"; leave it out to air no hourly ident",
        );
        return None;
    }
    spans.idents.push(("ident_every", span));
    Some(every)
}

fn valid_language(l: &str) -> bool {
    let mut parts = l.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn fallback(sink: &mut Sink<'_>, v: Option<&Value<'_>>, spans: &mut Spans) -> Fallback {
    let mut fb = Fallback {
        playlist: "fallback".into(),
        ident: "idents".into(),
        shuffle: true,
        crossfade: DEFAULT_CROSSFADE,
    };
    let Some(o) = v.and_then(|v| Obj::new(sink, v, "[fallback]", FALLBACK)) else {
        return fb;
    };
    if let Some((p, span)) = o.media_path(sink, "playlist") {
        spans.paths.push((p.clone(), span, true));
        fb.playlist = p;
    }
    if let Some((p, span)) = o.media_path(sink, "ident") {
        spans.paths.push((p.clone(), span, true));
        fb.ident = p;
    }
    fb.shuffle = o.boolean(sink, "shuffle").unwrap_or(true);
    if let Some((d, _)) = o.length(sink, "crossfade", MAX_CROSSFADE) {
        fb.crossfade = d;
    }
    fb
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

fn shows(sink: &mut Sink<'_>, items: &[Value<'_>], lang: &str, spans: &mut Spans) -> Vec<Show> {
    let mut out: Vec<Show> = Vec::new();
    for v in items {
        let Some(o) = Obj::new(sink, v, "[[show]]", SHOW) else {
            continue;
        };
        let slug = o.required_string(sink, "slug");
        let title = o.required_string(sink, "title");
        let opt = |sink: &mut Sink<'_>, k| o.string(sink, k).map(|(s, _)| s);
        let kind = match o.string(sink, "kind") {
            None => ShowKind::Episodic,
            Some((k, span)) => match k.as_str() {
                "episodic" => ShowKind::Episodic,
                "serial" => ShowKind::Serial,
                _ => {
                    sink.error(span, format!("unknown show kind `{k}`"))
                        .hint("\"episodic\" (newest first) or \"serial\" (in order)");
                    ShowKind::Episodic
                }
            },
        };
        let hosts = o.strings(sink, "hosts").unwrap_or_default();
        let Some((slug, slug_span)) = slug else {
            continue;
        };
        if !valid_slug(&slug) {
            sink.error(
                slug_span.clone(),
                format!("slug `{slug}` must be lowercase letters, digits and dashes"),
            )
            .hint("it appears in URLs, e.g. \"la-matinale\"");
        }
        if out.iter().any(|s| s.slug == slug) {
            sink.error(slug_span.clone(), format!("show `{slug}` is defined twice"));
        }
        spans.shows.push(slug_span);
        // Podcast apps reject feeds whose categories are not spelled exactly as Apple's.
        let category = o.string(sink, "category");
        let subcategory = o.string(sink, "subcategory");
        if let Some((cat, span)) = &category {
            let sub = subcategory.as_ref().map(|s| s.0.as_str());
            if let Err(msg) = super::categories::validate_category(cat, sub) {
                let span = subcategory.as_ref().map_or(span.clone(), |s| s.1.clone());
                sink.error(span, msg);
            }
        } else if let Some((_, span)) = &subcategory {
            sink.error(span.clone(), "a subcategory needs a `category`".to_string());
        }
        out.push(Show {
            slug,
            title: title.map(|t| t.0).unwrap_or_default(),
            description: opt(sink, "description"),
            hosts: hosts.into_iter().map(|h| h.0).collect(),
            artwork: opt(sink, "artwork"),
            category: category.map(|c| c.0),
            subcategory: subcategory.map(|c| c.0),
            explicit: o.boolean(sink, "explicit").unwrap_or(false),
            language: opt(sink, "language").unwrap_or_else(|| lang.to_string()),
            kind,
        });
    }
    out
}

fn show_ref(
    sink: &mut Sink<'_>,
    o: &Obj<'_, '_>,
    slugs: &[&str],
    required: bool,
) -> Option<String> {
    let (show, span) = if required {
        o.required_string(sink, "show")?
    } else {
        o.string(sink, "show")?
    };
    if !slugs.contains(&show.as_str()) {
        let d = sink.error(span, format!("unknown show `{show}`"));
        match closest(&show, slugs.iter().copied()) {
            Some(c) => d.hint(format!("did you mean `{c}`?")),
            None if slugs.is_empty() => d.hint("declare it in a [[show]] section first"),
            None => d.hint(format!("known shows: {}", slugs.join(", "))),
        }
        return None;
    }
    Some(show)
}

/// `play` / `playlist` (+ `shuffle`) / `file` (exceptions only).
fn play(
    sink: &mut Sink<'_>,
    o: &Obj<'_, '_>,
    allow_file: bool,
    spans: &mut Spans,
) -> Option<Option<Play>> {
    let keys: Vec<&str> = ["play", "playlist", "file"]
        .into_iter()
        .filter(|k| o.has(k))
        .collect();
    if keys.len() > 1 {
        sink.error(
            o.span_of(keys[1]),
            format!("`{}` and `{}` both say what to play", keys[0], keys[1]),
        )
        .hint("keep one of them");
        return None;
    }
    for key in ["shuffle", "crossfade"] {
        if o.has(key) && !o.has("playlist") {
            sink.error(
                o.span_of(key),
                format!("`{key}` applies to a `playlist` only"),
            );
        }
    }
    match keys.first().copied() {
        None => Some(None),
        Some("play") => {
            let (p, span) = o.string(sink, "play")?;
            let play = match p.as_str() {
                "premiere" => Play::Premiere,
                "latest" => Play::Latest,
                "rerun" => Play::Rerun,
                "live" => Play::Live,
                "playlist" | "file" => {
                    sink.error(
                        span,
                        format!("write {p} = \"folder\" instead of play = \"{p}\""),
                    );
                    return None;
                }
                _ => {
                    let d = sink.error(span, format!("unknown play `{p}`"));
                    let known = ["premiere", "latest", "rerun", "live"];
                    match closest(&p, known.into_iter()) {
                        Some(c) => d.hint(format!("did you mean `{c}`?")),
                        None => d.hint("premiere, latest, rerun or live; or playlist = \"folder\""),
                    }
                    return None;
                }
            };
            Some(Some(play))
        }
        Some("playlist") => {
            let (folder, span) = o.media_path(sink, "playlist")?;
            spans.paths.push((folder.clone(), span, true));
            let shuffle = o.boolean(sink, "shuffle").unwrap_or(false);
            let crossfade = if o.has("crossfade") {
                o.length(sink, "crossfade", MAX_CROSSFADE)?.0
            } else {
                DEFAULT_CROSSFADE
            };
            Some(Some(Play::Playlist {
                folder,
                shuffle,
                crossfade,
            }))
        }
        Some(_) => {
            if !allow_file {
                sink.error(
                    o.span_of("file"),
                    "`file` is for one-off [[exception]] entries",
                )
                .hint("a recurring slot plays an episode or a playlist folder");
                return None;
            }
            let (file, span) = o.media_path(sink, "file")?;
            spans.paths.push((file.clone(), span, false));
            Some(Some(Play::File(file)))
        }
    }
}

fn overrun_underrun(sink: &mut Sink<'_>, o: &Obj<'_, '_>) -> (Option<Overrun>, Option<Underrun>) {
    let over = o
        .string(sink, "overrun")
        .and_then(|(s, span)| match s.as_str() {
            "fade" => Some(Overrun::Fade),
            "cut" => Some(Overrun::Cut),
            _ => {
                sink.error(span, format!("unknown overrun `{s}`"))
                    .hint("\"fade\" or \"cut\"");
                None
            }
        });
    let under = o
        .string(sink, "underrun")
        .and_then(|(s, span)| match s.as_str() {
            "fallback" => Some(Underrun::Fallback),
            "silence" => Some(Underrun::Silence),
            _ => {
                sink.error(span, format!("unknown underrun `{s}`"))
                    .hint("\"fallback\" or \"silence\"");
                None
            }
        });
    (over, under)
}

fn weekday(name: &str) -> Option<usize> {
    const NAMES: [[&str; 4]; 7] = [
        ["mon", "monday", "lun", "lundi"],
        ["tue", "tuesday", "mar", "mardi"],
        ["wed", "wednesday", "mer", "mercredi"],
        ["thu", "thursday", "jeu", "jeudi"],
        ["fri", "friday", "ven", "vendredi"],
        ["sat", "saturday", "sam", "samedi"],
        ["sun", "sunday", "dim", "dimanche"],
    ];
    let lower = name.to_lowercase();
    NAMES.iter().position(|n| n.contains(&lower.as_str()))
}

fn recurrence(
    sink: &mut Sink<'_>,
    o: &Obj<'_, '_>,
    src_text: &str,
) -> Option<(Recurrence, Range<usize>)> {
    match (o.has("cron"), o.has("days") || o.has("start")) {
        (true, true) => {
            let k = if o.has("days") { "days" } else { "start" };
            sink.error(
                o.span_of(k),
                format!("`{k}` and `cron` both say when the slot airs"),
            )
            .hint("use days + start for a weekly slot, or cron alone");
            None
        }
        (false, false) => {
            sink.error(o.span.clone(), "[[slot]] needs `days` + `start` or `cron`")
                .hint("e.g. days = [\"mon\", \"wed\"] and start = \"18:00\", or cron = \"0 7 * * 1-5\"");
            None
        }
        (true, false) => {
            let (line, span) = o.string(sink, "cron")?;
            match crontab::parse(&line) {
                Ok(tab) => Some((
                    Recurrence::Cron {
                        line,
                        tab: Box::new(tab),
                    },
                    span,
                )),
                Err(errs) => {
                    // Point inside the string when it is written plainly between quotes.
                    let raw = &src_text[span.clone()];
                    let inner = raw.len() >= 2 && raw[1..raw.len() - 1] == line;
                    for e in errs {
                        let at = if inner {
                            span.start + 1 + e.range.start..span.start + 1 + e.range.end
                        } else {
                            span.clone()
                        };
                        let d = sink.error(at, e.message);
                        if let Some(h) = e.hint {
                            d.hint(h);
                        }
                    }
                    None
                }
            }
        }
        (false, true) => {
            if !o.has("days") {
                sink.error(o.span_of("start"), "`start` needs `days`")
                    .hint("days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"] for every day");
                return None;
            }
            let days_v = o.strings(sink, "days");
            let start = if o.has("start") {
                o.time(sink, "start")
            } else {
                sink.error(o.span_of("days"), "`days` needs a `start` time");
                None
            };
            let mut days = [false; 7];
            for (d, span) in days_v? {
                match weekday(&d) {
                    Some(i) => days[i] = true,
                    None => {
                        sink.error(span, format!("unknown day `{d}`"))
                            .hint("mon, tue, wed, thu, fri, sat, sun (or lun … dim)");
                    }
                }
            }
            if !days.iter().any(|&d| d) {
                sink.error(o.span_of("days"), "`days` is empty");
                return None;
            }
            let (start, span) = start?;
            Some((Recurrence::Weekly { days, start }, span))
        }
    }
}

fn weeks(sink: &mut Sink<'_>, o: &Obj<'_, '_>) -> Option<Weeks> {
    if o.has("weeks") && o.has("every") {
        sink.error(
            o.span_of("every"),
            "`weeks` and `every` both say which weeks",
        )
        .hint("keep one of them");
        return None;
    }
    if let Some((w, span)) = o.string(sink, "weeks") {
        return match w.as_str() {
            "all" => Some(Weeks::All),
            "odd" => Some(Weeks::Odd),
            "even" => Some(Weeks::Even),
            _ => {
                sink.error(span, format!("unknown weeks `{w}`")).hint(
                    "\"odd\" or \"even\" (ISO week numbers), or every = \"2w\" with an anchor date",
                );
                None
            }
        };
    }
    if o.has("anchor") && !o.has("every") {
        sink.error(o.span_of("anchor"), "`anchor` goes with `every`");
    }
    let Some((e, span)) = o.string(sink, "every") else {
        return if o.has("weeks") || o.has("every") {
            None
        } else {
            Some(Weeks::All)
        };
    };
    let n = e
        .strip_suffix('w')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=52).contains(n));
    let Some(n) = n else {
        sink.error(span, format!("bad `every` \"{e}\""))
            .hint("a number of weeks like \"2w\"");
        return None;
    };
    let anchor = if o.has("anchor") {
        o.date(sink, "anchor")?.0
    } else {
        sink.error(span, "`every` needs an `anchor` date")
            .hint("anchor = 2026-01-05: any date in a week the slot airs");
        return None;
    };
    Some(if n == 1 {
        Weeks::All
    } else {
        Weeks::Every { n, anchor }
    })
}

fn slots(sink: &mut Sink<'_>, items: &[Value<'_>], slugs: &[&str], spans: &mut Spans) -> Vec<Slot> {
    let src_text = sink.src();
    let mut out: Vec<Slot> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    for v in items {
        let Some(o) = Obj::new(sink, v, "[[slot]]", SLOT) else {
            continue;
        };
        let show = show_ref(sink, &o, slugs, true);
        let rec = recurrence(sink, &o, src_text);
        let weeks = weeks(sink, &o);
        let duration = if o.has("duration") {
            o.duration(sink, "duration")
        } else {
            sink.error(o.span.clone(), "[[slot]] needs a `duration`")
                .hint("e.g. duration = \"1h\"");
            None
        };
        let play = play(sink, &o, false, spans);
        let (over, under) = overrun_underrun(sink, &o);
        let record = o.boolean(sink, "record");
        let id = o.string(sink, "id");
        let (
            Some(show),
            Some((recurrence, when)),
            Some(weeks),
            Some((duration, dspan)),
            Some(play),
        ) = (show, rec, weeks, duration, play)
        else {
            continue;
        };
        let id = match id {
            Some((id, span)) => {
                if !valid_slug(&id) {
                    sink.error(
                        span.clone(),
                        format!("slot id `{id}` must be lowercase letters, digits and dashes"),
                    );
                }
                if !ids.insert(id.clone()) {
                    sink.error(span, format!("slot id `{id}` is used twice"));
                }
                id
            }
            None => {
                // The show's first slot takes its slug, later ones `slug-2`, `slug-3`…
                let mut n = 1;
                let mut id = show.clone();
                while ids.contains(&id) {
                    n += 1;
                    id = format!("{show}-{n}");
                }
                ids.insert(id.clone());
                id
            }
        };
        spans.slots.push(SlotSpans {
            header: o.span.clone(),
            when,
            duration: dspan,
        });
        out.push(Slot {
            id,
            show,
            recurrence,
            weeks,
            duration,
            play: play.unwrap_or(Play::Premiere),
            overrun: over.unwrap_or(Overrun::Fade),
            underrun: under.unwrap_or(Underrun::Fallback),
            record: record.unwrap_or(true),
        });
    }
    out
}

type Exceptions = (HashMap<(usize, Date), Override>, Vec<Special>);

fn exceptions(
    sink: &mut Sink<'_>,
    items: &[Value<'_>],
    slugs: &[&str],
    slots: &[Slot],
    spans: &mut Spans,
) -> Exceptions {
    let mut overrides = HashMap::new();
    let mut specials = Vec::new();
    for v in items {
        let Some(o) = Obj::new(sink, v, "[[exception]]", EXCEPTION) else {
            continue;
        };
        let dates = exception_dates(sink, &o);
        let cancel = o.boolean(sink, "cancel").unwrap_or(false);
        let show = show_ref(sink, &o, slugs, false);
        let play = play(sink, &o, true, spans);
        let (over, under) = overrun_underrun(sink, &o);
        let record = o.boolean(sink, "record");
        let duration = if o.has("duration") {
            o.duration(sink, "duration")
        } else {
            None
        };
        let replaces = [
            "show", "play", "playlist", "file", "duration", "overrun", "underrun", "start",
            "record",
        ]
        .into_iter()
        .find(|k| o.has(k));
        if let Some((slot_id, slot_span)) = o.string(sink, "slot") {
            let Some(idx) = slots.iter().position(|s| s.id == slot_id) else {
                let d = sink.error(
                    slot_span,
                    format!("exception refers to unknown slot `{slot_id}`"),
                );
                let ids: Vec<&str> = slots.iter().map(|s| s.id.as_str()).collect();
                match closest(&slot_id, ids.iter().copied()) {
                    Some(c) => d.hint(format!("did you mean `{c}`?")),
                    None => d.hint(format!("slot ids: {}", ids.join(", "))),
                }
                continue;
            };
            let slot = &slots[idx];
            let action = if cancel {
                if let Some(k) = replaces {
                    sink.error(
                        o.span_of(k),
                        format!("`{k}` has no effect on a cancelled slot"),
                    )
                    .hint("remove `cancel = true` to replace the programme instead");
                    continue;
                }
                Override::Cancel
            } else {
                match replaces {
                    None => {
                        sink.error(o.span.clone(), "this exception neither cancels nor replaces anything")
                            .hint("add cancel = true, or what to play instead (play, playlist, file, show)");
                        continue;
                    }
                    Some("start") => {
                        sink.error(o.span_of("start"), "an exception on a slot keeps the slot's start")
                            .hint("cancel the slot that day and add a special (an exception without `slot`)");
                        continue;
                    }
                    Some(_) => {}
                }
                let (Some(play), Some(show)) = (
                    play,
                    show.or_else(|| (!o.has("show")).then(|| slot.show.clone())),
                ) else {
                    continue;
                };
                Override::Replace {
                    show,
                    play: play.unwrap_or_else(|| slot.play.clone()),
                    duration: duration.map_or(slot.duration, |d| d.0),
                    overrun: over.unwrap_or(slot.overrun),
                    underrun: under.unwrap_or(slot.underrun),
                    record: record.unwrap_or(slot.record),
                }
            };
            for (date, span) in dates {
                let mut walls = Vec::new();
                recur::walls(&slot.recurrence, slot.weeks, date, date, &mut walls);
                if walls.is_empty() {
                    let day = date.strftime("%A");
                    sink.error(span.clone(), format!("slot `{slot_id}` does not air on {date} (a {day})"))
                        .hint("an exception must fall on a date the slot airs; check the date and the slot's days");
                    continue;
                }
                if overrides.insert((idx, date), action.clone()).is_some() {
                    sink.error(
                        span.clone(),
                        format!("slot `{slot_id}` already has an exception on {date}"),
                    );
                }
                spans.overrides.insert((idx, date), span);
            }
        } else {
            if cancel {
                sink.error(o.span_of("cancel"), "`cancel` needs the `slot` it cancels")
                    .hint("slot = \"<slot id>\"");
                continue;
            }
            if !o.has("show") {
                sink.error(
                    o.span.clone(),
                    "a special broadcast (an exception without `slot`) needs `show`",
                );
            }
            if !o.has("start") {
                sink.error(o.span.clone(), "a special broadcast needs a `start` time");
            }
            if !o.has("duration") {
                sink.error(o.span.clone(), "a special broadcast needs a `duration`");
            }
            let start = o.time(sink, "start");
            let id = o.string(sink, "id");
            let (Some(show), Some((start, _)), Some((duration, _)), Some(play)) =
                (show, start, duration, play)
            else {
                continue;
            };
            for (date, span) in dates {
                let id = id
                    .as_ref()
                    .map_or_else(|| format!("{show}-special"), |i| i.0.clone());
                spans.specials.push(span);
                specials.push(Special {
                    id,
                    show: show.clone(),
                    wall: DateTime::from_parts(date, start),
                    duration,
                    play: play.clone().unwrap_or(Play::Premiere),
                    overrun: over.unwrap_or(Overrun::Fade),
                    underrun: under.unwrap_or(Underrun::Fallback),
                    record: record.unwrap_or(true),
                });
            }
        }
    }
    (overrides, specials)
}

/// `date` as one date or an array of dates.
fn exception_dates(sink: &mut Sink<'_>, o: &Obj<'_, '_>) -> Vec<(Date, Range<usize>)> {
    let Some(v) = o.get("date") else {
        sink.error(o.span.clone(), "[[exception]] needs a `date`")
            .hint("date = 2026-07-14");
        return Vec::new();
    };
    match v.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .filter_map(|i| date_value(sink, "date", i).map(|d| (d, i.span())))
            .collect(),
        _ => date_value(sink, "date", v)
            .map(|d| (d, v.span()))
            .into_iter()
            .collect(),
    }
}
