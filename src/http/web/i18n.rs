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
            "from_start" => ("Écouter depuis le début", "Listen from the start"),
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
            "go_live" => ("Passer en direct", "Go live"),
            "live_intro" => (
                "Pendant une émission en direct (et jusqu'à dix minutes avant), connectez BUTT, Mixxx ou tout logiciel de diffusion Icecast avec ces réglages. Vous passez à l'antenne à l'heure exacte du début ; si la connexion coupe moins de 5 secondes, l'émission reprend sans autre coupure. Chaque direct devient ensuite un épisode du podcast de l'émission.",
                "During a live show (and up to ten minutes before), connect BUTT, Mixxx or any Icecast broadcasting software with these settings. You go on air at the exact start time; if the connection drops for less than 5 seconds, the show resumes without another break. Every live show then becomes an episode of the show's podcast.",
            ),
            "live_settings" => ("Réglages du logiciel", "Software settings"),
            "live_type" => ("Type de serveur", "Server type"),
            "live_address" => ("Adresse", "Address"),
            "live_port" => ("Port", "Port"),
            "live_mount" => ("Point de montage", "Mount point"),
            "live_user" => ("Utilisateur", "User"),
            "live_user_value" => (
                "le nom court de votre émission (ci-dessous)",
                "your show's short name (below)",
            ),
            "live_password" => ("Mot de passe", "Password"),
            "live_password_value" => (
                "votre jeton de direct, donné par la régie (antenne token add NOM --show ÉMISSION --live)",
                "your live token, given by the station team (antenne token add NAME --show SHOW --live)",
            ),
            "live_format" => ("Format", "Format"),
            "live_format_value" => (
                "MP3 128 kbit/s, 44 100 Hz, stéréo (Ogg Vorbis, FLAC et AAC marchent aussi)",
                "MP3 128 kbps, 44.1 kHz, stereo (Ogg Vorbis, FLAC and AAC work too)",
            ),
            "live_next" => ("Prochains directs", "Upcoming live shows"),
            "live_none" => (
                "Aucun direct prévu dans les deux semaines.",
                "No live show in the next two weeks.",
            ),
            "live_refused" => (
                "Refusé ? 401 : le jeton est faux ou révoqué. 403 : ce n'est pas l'heure de votre émission (le message dit quand est la prochaine).",
                "Refused? 401: the token is wrong or revoked. 403: it is not your show's time (the message says when the next one is).",
            ),
            "add_calendar" => ("Ajouter à mon agenda", "Add to my calendar"),
            "ics_file" => ("Fichier iCalendar (.ics)", "iCalendar file (.ics)"),
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
