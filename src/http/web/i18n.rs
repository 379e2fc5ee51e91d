//! The page's two languages: French by default, English on `?lang=en` or when
//! `Accept-Language` prefers it.

use crate::feed::text::long_day;

/// A language of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `?lang=` wins; then the first of `fr`/`en` by `Accept-Language` quality; else French.
    pub fn negotiate(query: Option<&str>, accept: Option<&str>) -> Lang {
        match query {
            Some("en") => return Lang::En,
            Some("fr") => return Lang::Fr,
            _ => {}
        }
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.unwrap_or("").split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                .unwrap_or(1.0f32);
            let lang = match tag.split('-').next() {
                Some("fr") => Lang::Fr,
                Some("en") => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Fr)
    }

    /// One UI string.
    pub fn t(self, key: &str) -> &'static str {
        let (fr, en) = match key {
            "on_air" => ("À l'antenne", "On air"),
            "now" => ("En ce moment", "Now"),
            "next" => ("Ensuite", "Next"),
            "nothing" => ("Musique et indicatifs", "Music and station idents"),
            "listen_live" => ("Écouter le direct", "Listen live"),
            "live_player" => ("Lecteur du direct", "Live stream player"),
            "programme" => ("Programme de la semaine", "This week's programme"),
            "latest" => ("Derniers épisodes", "Latest episodes"),
            "no_episodes" => ("Pas encore d'épisode.", "No episodes yet."),
            "download" => ("Télécharger", "Download"),
            "subscribe" => ("S'abonner", "Subscribe"),
            "rss" => ("Flux RSS", "RSS feed"),
            "apple" => ("Apple Podcasts", "Apple Podcasts"),
            "pcast" => ("Autre appli (pcast)", "Other app (pcast)"),
            "all_shows_feed" => ("Toute la station (RSS)", "Whole station (RSS)"),
            "show_page" => ("Page de l'émission", "Show page"),
            "episodes" => ("Épisodes", "Episodes"),
            "slots" => ("À l'antenne cette semaine", "On air this week"),
            "upload" => ("Envoyer un épisode", "Upload an episode"),
            "home" => ("Accueil", "Home"),
            "skip" => ("Aller au contenu", "Skip to content"),
            "lang_switch" => ("English", "Français"),
            "no_schedule" => (
                "La grille n'est pas disponible pour le moment.",
                "The programme is not available right now.",
            ),
            "no_slot" => ("Rien de prévu", "Nothing scheduled"),
            "token" => ("Jeton d'envoi", "Upload token"),
            "token_help" => (
                "Donné par l'équipe de la radio. Gardé dans ce navigateur seulement.",
                "Given by the station team. Kept in this browser only.",
            ),
            "remember" => ("Se souvenir du jeton", "Remember the token"),
            "show" => ("Émission", "Show"),
            "title" => ("Titre", "Title"),
            "description" => ("Description", "Description"),
            "date" => ("Date d'enregistrement", "Recording date"),
            "season" => ("Saison", "Season"),
            "episode" => ("Numéro d'épisode", "Episode number"),
            "file" => ("Fichier audio", "Audio file"),
            "file_help" => (
                "WAV, FLAC, MP3, M4A, Ogg… jusqu'à plusieurs heures. L'envoi reprend après une coupure.",
                "WAV, FLAC, MP3, M4A, Ogg… up to several hours. The upload resumes after a cut.",
            ),
            "transcript" => (
                "Transcription (WebVTT ou SRT)",
                "Transcript (WebVTT or SRT)",
            ),
            "chapters" => ("Chapitres (JSON)", "Chapters (JSON)"),
            "optional" => ("facultatif", "optional"),
            "send" => ("Envoyer", "Upload"),
            "progress" => ("Progression de l'envoi", "Upload progress"),
            "needs_js" => (
                "L'envoi d'épisodes demande JavaScript.",
                "Uploading episodes needs JavaScript.",
            ),
            "schedule_errors" => (
                "Erreurs de la grille (dernier rechargement refusé)",
                "Schedule errors (last refused reload)",
            ),
            "minutes" => ("min", "min"),
            "footer" => (
                "Une radio partagée, faite par les habitants.",
                "A shared radio, made by its neighbours.",
            ),
            _ => ("?", "?"),
        };
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// `lundi 16 mars` / `Monday 16 March`.
    pub fn day(self, d: jiff::civil::Date) -> String {
        long_day(d, self == Lang::En)
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn negotiation() {
        let check = |q, a, want| assert_eq!(Lang::negotiate(q, a), want, "{q:?} {a:?}");
        check(None, None, Lang::Fr);
        check(Some("en"), Some("fr"), Lang::En);
        check(Some("fr"), Some("en-GB"), Lang::Fr);
        check(None, Some("en-US,en;q=0.9"), Lang::En);
        check(None, Some("de-DE, en;q=0.5, fr;q=0.8"), Lang::Fr);
        check(None, Some("de, en;q=0.3"), Lang::En);
        check(None, Some("en;q=0"), Lang::Fr);
    }
}
