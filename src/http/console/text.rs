//! The console's words, French first and English (the public pages' [`Lang`] picks them).

use crate::http::web::Lang;

/// One string of the console.
pub fn t(lang: Lang, key: &str) -> &'static str {
    let (fr, en) = match key {
        "console" => ("Console de la radio", "Station console"),
        "menu" => ("Menu de la console", "Console menu"),
        "home" => ("Accueil", "Home"),
        "schedule" => ("Grille", "Schedule"),
        "tokens" => ("Jetons", "Tokens"),
        "episodes" => ("Épisodes", "Episodes"),
        "sign_out" => ("Se déconnecter", "Sign out"),
        "lang_switch" => ("English", "Français"),
        "back_home" => ("Retour à la console", "Back to the console"),
        // Sign-in.
        "sign_in_title" => ("Connexion à la console", "Sign in to the console"),
        "sign_in" => ("Se connecter", "Sign in"),
        "token_label" => ("Jeton d'opérateur", "Operator token"),
        "token_help" => (
            "Le jeton donné par la régie (antenne token add NOM, sans émission). La session dure tant que vous vous en servez, 12 heures d'inactivité au plus.",
            "The token from the station team (antenne token add NAME, without a show). The session lasts while you use it, at most 12 hours idle.",
        ),
        "sign_in_refused" => ("Jeton refusé.", "Token refused."),
        "csrf_title" => ("Formulaire refusé", "Form refused"),
        "csrf_body" => (
            "Ce formulaire ne vient pas de votre session (ou elle a changé). Rechargez la page et recommencez.",
            "This form does not come from your session (or it changed). Reload the page and try again.",
        ),
        // Home.
        "on_air_schedule" => ("La grille à l'antenne", "The schedule on air"),
        "loaded_at" => ("Chargée le", "Loaded at"),
        "last_refused" => (
            "La dernière modification a été refusée ; la grille précédente reste à l'antenne.",
            "The last edit was refused; the previous schedule stays on air.",
        ),
        "edit_schedule" => ("Modifier la grille", "Edit the schedule"),
        "audit" => ("Journal des modifications", "Change log"),
        "audit_empty" => ("Aucune modification pour l'instant.", "No change yet."),
        "when" => ("Quand", "When"),
        "who" => ("Qui", "Who"),
        "what" => ("Quoi", "What"),
        "detail" => ("Détail", "Detail"),
        "untagged" => (
            "Fichiers diffusés sans tags (déclaration SACEM/SPRÉ)",
            "Aired files without tags (music declaration)",
        ),
        "untagged_help" => (
            "Ces fichiers n'ont pas de titre ou d'interprète : corrigez leurs tags pour que la déclaration soit complète.",
            "These files have no title or performer tag: fix their tags so that the declaration is complete.",
        ),
        "untagged_none" => (
            "Tous les fichiers diffusés ont leurs tags.",
            "Every aired file is tagged.",
        ),
        "file" => ("Fichier", "File"),
        "plays" => ("Diffusions", "Plays"),
        "last_aired" => ("Dernière diffusion", "Last aired"),
        // The editor.
        "schedule_file" => ("Le fichier de la grille", "The schedule file"),
        "check" => ("Vérifier", "Check"),
        "history" => ("Versions enregistrées", "Saved versions"),
        "errors" => ("Erreurs à corriger", "Errors to fix"),
        "line" => ("Ligne", "Line"),
        "column" => ("colonne", "column"),
        "hint" => ("Piste :", "Hint:"),
        "saved" => (
            "Grille enregistrée : la radio la recharge dans les secondes qui viennent.",
            "Schedule saved: the station reloads it within seconds.",
        ),
        "frequent_edits" => ("Modifications courantes", "Frequent edits"),
        "cancel_date" => ("Annuler une date", "Cancel one date"),
        "add_special" => ("Ajouter une émission spéciale", "Add a one-off special"),
        "move_slot" => ("Déplacer un créneau", "Move a slot"),
        "slot" => ("Créneau", "Slot"),
        "show" => ("Émission", "Show"),
        "date" => ("Date", "Date"),
        "start" => ("Début", "Start"),
        "duration" => ("Durée (1h, 1h30m, 45m)", "Length (1h, 1h30m, 45m)"),
        "play" => ("Diffusion", "What plays"),
        "special_id" => ("Nom court", "Short name"),
        "optional" => ("facultatif", "optional"),
        "days" => ("Jours", "Days"),
        "days_help" => (
            "aucun coché : les mêmes jours",
            "none ticked: the same days",
        ),
        "to_preview" => ("Voir ce qui change", "See what changes"),
        "live" => ("direct", "live"),
        "premiere" => ("nouvel épisode", "new episode"),
        "rerun" => ("rediffusion", "rerun"),
        "latest" => ("dernier épisode", "latest episode"),
        "mon" => ("lundi", "Monday"),
        "tue" => ("mardi", "Tuesday"),
        "wed" => ("mercredi", "Wednesday"),
        "thu" => ("jeudi", "Thursday"),
        "fri" => ("vendredi", "Friday"),
        "sat" => ("samedi", "Saturday"),
        "sun" => ("dimanche", "Sunday"),
        "bad_date" => ("La date n'est pas valide.", "The date is not valid."),
        "bad_time" => ("L'heure doit s'écrire HH:MM.", "The time must be HH:MM."),
        "bad_form" => ("Formulaire inconnu.", "Unknown form."),
        "edit_syntax" => (
            "Le fichier n'est pas du TOML valide : corrigez-le d'abord dans l'éditeur.",
            "The file is not valid TOML: fix it in the editor first.",
        ),
        "edit_no_slot" => ("Aucun créneau nommé", "No slot named"),
        "edit_cron" => (
            "ce créneau est réglé par une ligne cron : modifiez-le dans l'éditeur.",
            "this slot is set by a cron line: edit it in the editor.",
        ),
        // The preview.
        "preview" => ("Aperçu avant d'enregistrer", "Preview before saving"),
        "valid" => (
            "La grille est valide (mêmes vérifications que « antenne check »).",
            "The schedule is valid (the same checks as \"antenne check\").",
        ),
        "changes_14" => (
            "Ce qui change dans les 14 prochains jours",
            "What changes in the next 14 days",
        ),
        "no_change" => (
            "Rien ne change à l'antenne dans les 14 prochains jours.",
            "Nothing changes on air in the next 14 days.",
        ),
        "day" => ("Jour", "Day"),
        "hours" => ("Heures", "Hours"),
        "added" => ("ajoutée(s)", "added"),
        "removed" => ("retirée(s)", "removed"),
        "moved" => ("déplacée(s) ou changée(s)", "moved or changed"),
        "warnings" => ("Avertissements", "Warnings"),
        "save" => ("Enregistrer", "Save"),
        "back_to_editor" => ("Revenir à l'éditeur", "Back to the editor"),
        "new_text" => ("Le texte qui sera enregistré", "The text to be saved"),
        "conflict_title" => ("Enregistrement refusé", "Save refused"),
        "conflict" => (
            "Le fichier de la grille a changé sur le serveur depuis que vous l'avez ouvert (quelqu'un d'autre l'a modifié). Rien n'a été enregistré : rechargez l'éditeur pour repartir de la version actuelle, puis refaites votre modification (votre texte est ci-dessous).",
            "The schedule file changed on the server since you opened it (someone else edited it). Nothing was saved: reload the editor to start from the current version, then make your edit again (your text is below).",
        ),
        "reload_editor" => ("Recharger l'éditeur", "Reload the editor"),
        "your_text" => ("Votre texte", "Your text"),
        // History.
        "version" => ("Version", "Version"),
        "view" => ("Voir", "View"),
        "found_on_disk" => ("(trouvée sur le disque)", "(found on disk)"),
        "restores" => ("restaure", "restores"),
        "history_empty" => (
            "Aucune version enregistrée depuis la console.",
            "No version saved from the console yet.",
        ),
        "restore" => ("Restaurer cette version", "Restore this version"),
        "restore_explain" => (
            "Restaurer passe par la même vérification et le même aperçu qu'une modification.",
            "Restoring goes through the same check and preview as an edit.",
        ),
        // Tokens.
        "new_token" => ("Nouveau jeton de bénévole", "New volunteer token"),
        "token_name" => ("Nom (qui le reçoit)", "Name (who gets it)"),
        "token_shows" => ("Émissions", "Shows"),
        "token_live" => (
            "Peut aussi passer en direct (BUTT, Mixxx) pendant ses émissions",
            "May also go live (BUTT, Mixxx) during its shows",
        ),
        "create" => ("Créer le jeton", "Create the token"),
        "created" => ("Créé le", "Created"),
        "state" => ("État", "State"),
        "operator" => ("opérateur (toutes les émissions)", "operator (every show)"),
        "revoke" => ("Révoquer", "Revoke"),
        "revoked" => ("révoqué", "revoked"),
        "active" => ("actif", "active"),
        "token_bad_name" => (
            "Le nom doit être un texte visible de 64 caractères au plus.",
            "The name must be visible text of at most 64 characters.",
        ),
        "token_no_show" => (
            "Cochez au moins une émission de la grille (les jetons d'opérateur se créent sur le serveur).",
            "Tick at least one show of the schedule (operator tokens are made on the server).",
        ),
        "token_exists" => (
            "ce nom est déjà pris ; choisissez-en un autre.",
            "this name is taken; pick another.",
        ),
        "token_unknown" => (
            "aucun jeton actif de ce nom.",
            "no active token by that name.",
        ),
        "token_created_title" => ("Jeton créé", "Token created"),
        "token_created" => ("Le jeton est créé.", "The token is created."),
        "copy" => ("Copier", "Copy"),
        "copy_all" => ("Copier les instructions", "Copy the instructions"),
        "copied" => ("Copié", "Copied"),
        "shown_once" => (
            "Il n'est affiché qu'une seule fois : la radio n'en garde qu'une empreinte. Perdu ? Révoquez-le et créez-en un autre.",
            "It is shown only this once: the station keeps only a fingerprint of it. Lost? Revoke it and create another.",
        ),
        "for_volunteer" => ("À donner au bénévole", "For the volunteer"),
        "back_tokens" => ("Retour aux jetons", "Back to the tokens"),
        // Episodes.
        "see" => ("Voir", "Show"),
        "title" => ("Titre", "Title"),
        "published" => ("Publié", "Published"),
        "yes" => ("oui", "yes"),
        "no" => ("non", "no"),
        "no_episodes" => ("Pas d'épisode.", "No episodes."),
        "queued" => ("en attente", "queued"),
        "processing" => ("en traitement", "processing"),
        "ready" => ("prêt", "ready"),
        "failed" => ("échec", "failed"),
        "description" => ("Description", "Description"),
        "season" => ("Saison", "Season"),
        "number" => ("Numéro d'épisode", "Episode number"),
        "save_episode" => ("Enregistrer l'épisode", "Save the episode"),
        "updated" => ("Modifié le", "Updated"),
        "progress" => ("Avancement", "Progress"),
        "job_error" => ("Erreur du traitement", "Job error"),
        "length" => ("Durée", "Length"),
        "loudness" => ("Volume (intégré)", "Loudness (integrated)"),
        "gain" => ("gain", "gain"),
        "true_peak" => ("Crête réelle", "True peak"),
        "range" => ("Plage de volume", "Loudness range"),
        "job_and_loudness" => ("Traitement et volume", "Job and loudness"),
        "unpublish" => ("Dépublier", "Unpublish"),
        "republish" => ("Republier", "Republish"),
        "retry" => ("Relancer le traitement", "Retry the job"),
        "back_episodes" => ("Retour aux épisodes", "Back to the episodes"),
        "replace_audio" => ("Remplacer l'enregistrement", "Replace the recording"),
        "replace_help" => (
            "Le nouveau fichier est traité comme un envoi (volume, encodage) ; l'épisode garde son identifiant dans les flux et revient quand le traitement est fini.",
            "The new file is processed like an upload (loudness, encoding); the episode keeps its id in the feeds and comes back once processed.",
        ),
        "replace_refused" => ("Remplacement refusé", "Replacement refused"),
        "replace_too_large" => (
            "Le fichier dépasse la taille maximale des envois.",
            "The file is over the upload size limit.",
        ),
        "replace_not_audio" => (
            "Ce n'est pas un fichier audio reconnu (WAV, FLAC, Ogg, MP3, M4A, AIFF, Matroska).",
            "Not a recognised audio file (WAV, FLAC, Ogg, MP3, M4A, AIFF, Matroska).",
        ),
        "replace_busy" => (
            "Cet épisode est en cours de traitement : attendez la fin pour remplacer son enregistrement.",
            "This episode is being processed: wait until it is done to replace its recording.",
        ),
        "replace_duplicate" => (
            "Cet enregistrement est déjà celui d'un autre épisode.",
            "This recording is already another episode's.",
        ),
        _ => ("?", "?"),
    };
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

/// An audit action in words.
pub fn action(lang: Lang, action: &str) -> &str {
    let (fr, en) = match action {
        "session.open" => ("connexion", "signed in"),
        "session.close" => ("déconnexion", "signed out"),
        "schedule.save" => ("grille enregistrée", "schedule saved"),
        "schedule.restore" => ("grille restaurée", "schedule restored"),
        "token.create" => ("jeton créé", "token created"),
        "token.revoke" => ("jeton révoqué", "token revoked"),
        "episode.edit" => ("épisode modifié", "episode edited"),
        "episode.unpublish" => ("épisode dépublié", "episode unpublished"),
        "episode.republish" => ("épisode republié", "episode republished"),
        "episode.retry" => ("traitement relancé", "job retried"),
        "episode.audio" => ("enregistrement remplacé", "recording replaced"),
        other => (other, other),
    };
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_console_uses_has_words() {
        let src = [
            include_str!("mod.rs"),
            include_str!("page.rs"),
            include_str!("session.rs"),
            include_str!("schedule.rs"),
            include_str!("views.rs"),
            include_str!("history.rs"),
            include_str!("tokens.rs"),
            include_str!("episodes.rs"),
            include_str!("audio.rs"),
        ]
        .concat();
        let mut missing = Vec::new();
        for part in src.split("t(").skip(1) {
            let Some(rest) = part
                .strip_prefix("lang, \"")
                .or_else(|| part.strip_prefix("op.lang, \""))
            else {
                continue;
            };
            let key = &rest[..rest.find('"').unwrap_or(0)];
            if t(Lang::Fr, key) == "?" {
                missing.push(key.to_owned());
            }
        }
        for k in [
            "mon", "sun", "live", "latest", "queued", "failed", "yes", "revoked",
        ] {
            assert_ne!(t(Lang::En, k), "?", "{k}");
        }
        assert!(missing.is_empty(), "{missing:?}");
    }
}
