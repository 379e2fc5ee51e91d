//! The schedule from the browser: break it and see the error at its line, fix it, preview,
//! save, find it in the history, see the daemon reload it; a file changed on disk meanwhile
//! refuses the save; an older version is restored; the frequent-edit forms.

use std::time::Duration;

use jiff::civil::{Date, Weekday};

use super::{Desk, desk, operator, reloading};

/// The next `day` after today in the station's zone (within the preview's 14 days).
fn next(day: Weekday) -> Date {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .date();
    let mut d = today.tomorrow().unwrap();
    while d.weekday() != day {
        d = d.tomorrow().unwrap();
    }
    d
}

fn disk(d: &Desk) -> String {
    std::fs::read_to_string(&d.schedule).unwrap()
}

fn history(d: &Desk) -> Vec<String> {
    let root = d.schedule.parent().unwrap().join("history");
    let mut names = Vec::new();
    let Ok(years) = std::fs::read_dir(&root) else {
        return names;
    };
    for year in years.flatten() {
        for f in std::fs::read_dir(year.path()).unwrap().flatten() {
            names.push(f.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    names
}

async fn wait_for(what: &str, f: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "not within 5 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_edit_shows_its_line_then_the_fix_is_previewed_saved_and_reloaded() {
    let d = desk().await;
    let task = reloading(&d);
    let b = operator(&d).await;
    let editor = b.get(&d.state, "/console/schedule").await;
    assert_eq!(editor.status, 200, "{}", editor.body);
    let original = disk(&d);
    assert_eq!(editor.textarea(), original);
    let base = editor.field("base").unwrap();

    // Broken: the matinale's duration in words. The error is at its line, with the hint.
    let at = original.find("duration = \"1h\"").unwrap();
    let line = original[..at].matches('\n').count() + 1;
    let broken = original.replacen("duration = \"1h\"", "duration = \"une heure\"", 1);
    let p = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/check",
            &[("text", &broken), ("base", &base)],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains(&format!("data-line=\"{line}\"")),
        "{}",
        p.body
    );
    assert!(
        p.body.contains(&format!("Ligne {line}, colonne")),
        "{}",
        p.body
    );
    assert!(p.body.contains("class=\"hint\""), "{}", p.body);
    assert!(
        p.body
            .contains(&format!("<span class=\"bad\" id=\"line-{line}\">"))
    );
    assert_eq!(p.textarea(), broken, "the text is kept to be fixed");
    assert_eq!(disk(&d), original, "nothing saved");

    // Fixed, with a real change: next Wednesday's cooking show cancelled.
    let wed = next(Weekday::Wednesday);
    let fixed =
        format!("{original}\n[[exception]]\nslot = \"cuisines\"\ndate = {wed}\ncancel = true\n");
    let preview = b
        .submit(
            &d.state,
            &p,
            "/console/schedule/check",
            &[("text", &fixed), ("base", &base)],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("La grille est valide"));
    assert!(
        preview.body.contains("<tr class=\"removed\"><td>−</td>")
            && preview.body.contains("Cuisines du monde"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("0 ajoutée(s) · 1 retirée(s)"),
        "{}",
        preview.body
    );
    assert_eq!(disk(&d), original, "a preview saves nothing");

    // Saved: on disk, in the history (with the text found on disk before), in the log.
    let saved = b
        .submit(
            &d.state,
            &preview,
            "/console/schedule/save",
            &[
                ("text", &preview.textarea()),
                ("base", &base),
                ("restored", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(
        saved
            .location()
            .starts_with("/console/schedule?lang=fr&saved=weekly-")
    );
    assert_eq!(disk(&d), fixed);
    let h = history(&d);
    assert_eq!(h.len(), 4, "two versions and their .json: {h:?}");
    let list = b.get(&d.state, "/console/schedule/history").await;
    assert!(list.body.contains("alice") && list.body.contains("(trouvée sur le disque)"));
    let home = b.get(&d.state, "/console").await;
    assert!(home.body.contains("grille enregistrée"), "{}", home.body);

    // The daemon reloads it: next Wednesday's show is gone from the schedule on air.
    wait_for("the saved schedule on air", || {
        let s = d.state.current_schedule();
        let tz = s.station().timezone.clone();
        let from = wed.to_zoned_datetime(tz.clone()).unwrap().timestamp();
        let to = wed
            .tomorrow()
            .unwrap()
            .to_zoned_datetime(tz)
            .unwrap()
            .timestamp();
        !s.occurrences(from, to).iter().any(|o| o.slot == "cuisines")
    })
    .await;
    assert!(d.state.schedule().refused.is_none());
    d.state.shutdown_token().cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_over_a_file_changed_on_disk_is_refused_with_the_reason() {
    let d = desk().await;
    let b = operator(&d).await;
    let editor = b.get(&d.state, "/console/schedule").await;
    let base = editor.field("base").unwrap();
    let mine = editor
        .textarea()
        .replace("Cuisines du monde", "Cuisines d'ici");
    // Meanwhile, someone edits the file over SSH.
    let theirs = disk(&d).replace("Paroles d'anciens", "Paroles des anciens");
    std::fs::write(&d.schedule, &theirs).unwrap();
    let p = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/save",
            &[("text", &mine), ("base", &base)],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("a changé sur le serveur"), "{}", p.body);
    assert!(
        p.body.contains("Cuisines d&#39;ici"),
        "their text is given back"
    );
    assert_eq!(disk(&d), theirs, "the SSH edit is untouched");
    // An invalid text is never saved, whatever its base.
    let current = b.get(&d.state, "/console/schedule").await;
    let p = b
        .submit(
            &d.state,
            &current,
            "/console/schedule/save",
            &[
                ("text", "[station]\nname = 1\n"),
                ("base", &current.field("base").unwrap()),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert_eq!(disk(&d), theirs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_version_is_restored_through_the_preview() {
    let d = desk().await;
    let task = reloading(&d);
    let b = operator(&d).await;
    let original = disk(&d);
    let editor = b.get(&d.state, "/console/schedule").await;
    let edited = original.replace("start = \"18:00\"", "start = \"18:30\"");
    let saved = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/save",
            &[("text", &edited), ("base", &editor.field("base").unwrap())],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    wait_for("the edit on air", || {
        d.state
            .current_schedule()
            .occurrences(
                jiff::Timestamp::now(),
                jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 8),
            )
            .iter()
            .any(|o| o.slot == "cuisines" && o.wall.time() == jiff::civil::time(18, 30, 0, 0))
    })
    .await;
    // The history's oldest entry is the original, found on disk.
    let list = b.get(&d.state, "/console/schedule/history").await;
    let links: Vec<&str> = list
        .body
        .split("href=\"/console/schedule/history/")
        .skip(1)
        .map(|s| &s[..s.find('?').unwrap()])
        .collect();
    assert_eq!(links.len(), 2, "{}", list.body);
    let oldest = links[1];
    let view = b
        .get(&d.state, &format!("/console/schedule/history/{oldest}"))
        .await;
    assert_eq!(view.status, 200);
    assert_eq!(view.textarea(), original);
    let preview = b
        .submit(
            &d.state,
            &view,
            "/console/schedule/restore",
            &[("name", oldest), ("base", &view.field("base").unwrap())],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("<tr class=\"moved\">"),
        "{}",
        preview.body
    );
    assert_eq!(preview.field("restored").unwrap(), oldest);
    let done = b
        .submit(
            &d.state,
            &preview,
            "/console/schedule/save",
            &[
                ("text", &preview.textarea()),
                ("base", &preview.field("base").unwrap()),
                ("restored", oldest),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(disk(&d), original);
    let list = b.get(&d.state, "/console/schedule/history").await;
    assert!(
        list.body.contains(&format!("restaure {oldest}")),
        "{}",
        list.body
    );
    let home = b.get(&d.state, "/console").await;
    assert!(home.body.contains("grille restaurée"));
    // Names outside the history are not served.
    let p = b
        .get(&d.state, "/console/schedule/history/..%2Fweekly.toml")
        .await;
    assert_eq!(p.status, 404);
    d.state.shutdown_token().cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frequent_edit_forms_make_text_edits_that_keep_the_comments() {
    let d = desk().await;
    let b = operator(&d).await;
    let editor = b.get(&d.state, "/console/schedule").await;
    let base = editor.field("base").unwrap();
    let wed = next(Weekday::Wednesday).to_string();
    let sat = next(Weekday::Saturday).to_string();

    // Cancel next Wednesday's cooking show.
    let p = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/edit",
            &[
                ("kind", "cancel"),
                ("base", &base),
                ("slot", "cuisines"),
                ("date", &wed),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("1 retirée(s)"), "{}", p.body);
    let text = p.textarea();
    assert!(text.starts_with(&disk(&d)[..200]), "comments kept");
    assert!(text.contains(&format!("slot = \"cuisines\"\ndate = {wed}\ncancel = true")));

    // A live special on Saturday afternoon.
    let p = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/edit",
            &[
                ("kind", "special"),
                ("base", &base),
                ("show", "paroles-d-anciens"),
                ("date", &sat),
                ("start", "15:00"),
                ("duration", "2h"),
                ("play", "live"),
                ("id", "direct-du-samedi"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("1 ajoutée(s) · 0 retirée(s)"), "{}", p.body);

    // Moved to 20:00 on Thursdays.
    let p = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/edit",
            &[
                ("kind", "move"),
                ("base", &base),
                ("slot", "cuisines"),
                ("start", "20:00"),
                ("days", "thu"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.textarea().contains("days = [\"thu\"]\nstart = \"20:00\""),
        "{}",
        p.textarea()
    );

    // A special over another show: the check says which two clash, nothing is previewed.
    let p = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/edit",
            &[
                ("kind", "special"),
                ("base", &base),
                ("show", "paroles-d-anciens"),
                ("date", &wed),
                ("start", "18:00"),
                ("duration", "1h"),
                ("play", "live"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("Erreurs à corriger"));

    // A slot set by cron cannot be moved by the form: said so, in words.
    let p = b
        .submit(
            &d.state,
            &editor,
            "/console/schedule/edit",
            &[
                ("kind", "move"),
                ("base", &base),
                ("slot", "matinale"),
                ("start", "08:00"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("ligne cron"), "{}", p.body);
    assert_eq!(history(&d).len(), 0, "previews save nothing");
}
