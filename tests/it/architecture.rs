//! The layering of ARCHITECTURE.md, checked on the source: `cli → daemon → http → input →
//! {playout, ingest, broadcast, backup, alerts, audience} → config → antenne-core`, and inside the core `feed →
//! {schedule, catalog, audio} → {clock, timebase}`. A module may name (`crate::x`) only
//! modules of a lower layer; modules of one layer never name each other. Issue 13.
//!
//! The checker reads `crate::` paths (the crate's style for every cross-module path), grouped
//! imports (`crate::{a::X, b::Y}`) included, outside comments and outside the unit-test
//! module at the end of a file (`#[cfg(test)] mod tests`, or a `tests.rs` file).

use std::path::Path;

/// The layers of one package, highest first; modules not listed are not checked.
struct Layers(&'static [&'static [&'static str]]);

/// The root package (`src/`). The core's modules, re-exported under the same names, form
/// its lowest layer; `log_line` is a leaf every module may use.
const ROOT: Layers = Layers(&[
    &["cli"],
    &["daemon"],
    &["http"],
    &["input"],
    &[
        "playout",
        "ingest",
        "broadcast",
        "backup",
        "alerts",
        "audience",
    ],
    &["config"],
    &["log_line"],
    &["audio", "catalog", "clock", "feed", "schedule", "timebase"],
]);

/// `crates/antenne-core/src/`.
const CORE: Layers = Layers(&[
    &["feed"],
    &["schedule", "catalog", "audio"],
    &["clock", "timebase"],
]);

impl Layers {
    fn rank(&self, module: &str) -> Option<usize> {
        self.0.iter().position(|layer| layer.contains(&module))
    }

    /// Why `from` may not name `to`, for the failure message.
    fn why(&self, from: &str, to: &str) -> &'static str {
        if self.rank(from) == self.rank(to) {
            "a module of its own layer (put what both need in a lower one)"
        } else {
            "a higher layer (pass what it needs down as a parameter or a trait)"
        }
    }

    /// Whether `from` may name `to`.
    fn allows(&self, from: &str, to: &str) -> bool {
        if from == to {
            return true;
        }
        match (self.rank(from), self.rank(to)) {
            (Some(a), Some(b)) => b > a,
            // Unknown names (`crate::Error`, a macro...) are not module edges.
            _ => true,
        }
    }
}

/// Every forbidden edge in `files` (path relative to the package's `src/`, text), as
/// `path:line: from imports to`.
fn check(layers: &Layers, files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files {
        let from = path.split(['/', '.']).next().unwrap_or_default();
        if layers.rank(from).is_none() || path.ends_with("/tests.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("#[cfg(test)]") {
                let rest: Vec<&str> = text.lines().skip(n + 1).take(1).collect();
                if rest
                    .first()
                    .is_some_and(|l| l.trim_start().starts_with("mod tests"))
                {
                    break;
                }
            }
            let code = line.split("//").next().unwrap_or_default();
            for to in crate_paths(code) {
                if !layers.allows(from, &to) {
                    out.push(format!(
                        "{path}:{}: {from} imports {to}, {}",
                        n + 1,
                        layers.why(from, &to)
                    ));
                }
            }
        }
    }
    out
}

/// The first segment of every `crate::` path in one line of code.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let preceded = rest[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[i + "crate::".len()..];
        if preceded {
            continue; // `antenne_core::`-like names ending in "crate"
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            found.push(first_segment(rest));
        }
    }
    found.retain(|s| !s.is_empty());
    found
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every `.rs` file under `dir`, as (path relative to `dir`, text).
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_module_imports_a_module_of_its_own_or_a_higher_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bad = check(&ROOT, &sources(&root.join("src")));
    bad.extend(check(
        &CORE,
        &sources(&root.join("crates/antenne-core/src")),
    ));
    assert!(
        bad.is_empty(),
        "imports against the layering of ARCHITECTURE.md:\n{}",
        bad.join("\n")
    );
}

/// The modules below the daemon that take their own small config, never the `Settings`.
const CONFIGURED_AT_THE_EDGE: &[&str] =
    &["http", "input", "playout", "ingest", "broadcast", "backup"];

/// Every line of those modules that names `Settings` (outside comments and unit tests).
fn settings_readers(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files {
        let from = path.split(['/', '.']).next().unwrap_or_default();
        if !CONFIGURED_AT_THE_EDGE.contains(&from) || path.ends_with("/tests.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or_default();
            let names_settings = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| word == "Settings");
            if names_settings {
                out.push(format!(
                    "{path}:{}: {from} reads the Settings; take a config built in daemon::edge",
                    n + 1
                ));
            }
        }
    }
    out
}

// issue 13
#[test]
fn subsystems_take_their_config_from_the_edge_not_the_settings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bad = settings_readers(&sources(&root.join("src")));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The checker itself.
    let file = |path: &str, text: &str| vec![(path.to_owned(), text.to_owned())];
    assert_eq!(
        settings_readers(&file(
            "ingest/job.rs",
            "x\nfn f(s: &crate::config::Settings) {}"
        )),
        ["ingest/job.rs:2: ingest reads the Settings; take a config built in daemon::edge"]
    );
    assert!(settings_readers(&file("daemon/edge.rs", "use crate::config::Settings;")).is_empty());
    assert!(settings_readers(&file("http/mod.rs", "// not Settings\nHttpSettings")).is_empty());
}

#[test]
fn the_checker_reports_a_forbidden_import_with_its_line() {
    let files = |path: &str, text: &str| vec![(path.to_owned(), text.to_owned())];
    let check_root = |path: &str, text: &str| check(&ROOT, &files(path, text));
    // Upward, sideways, and inside a grouped import: each reported at its line.
    assert_eq!(
        check_root(
            "playout/engine.rs",
            "use std::sync::Arc;\nuse crate::http::HttpState;\n"
        ),
        [
            "playout/engine.rs:2: playout imports http, a higher layer (pass what it needs down as a parameter or a trait)"
        ]
    );
    assert_eq!(
        check_root("playout/mod.rs", "use crate::broadcast::Hub;"),
        [
            "playout/mod.rs:1: playout imports broadcast, a module of its own layer (put what both need in a lower one)"
        ]
    );
    assert_eq!(
        check_root(
            "http/state.rs",
            "use crate::{catalog::Catalog, daemon::AppState};"
        ),
        [
            "http/state.rs:1: http imports daemon, a higher layer (pass what it needs down as a parameter or a trait)"
        ]
    );
    assert_eq!(
        check_root("config.rs", "fn f(s: &crate::ingest::Job) {}"),
        [
            "config.rs:1: config imports ingest, a higher layer (pass what it needs down as a parameter or a trait)"
        ]
    );
    // Downward imports, the module itself, comments and unit tests are fine.
    let fine = "use crate::broadcast::Hub;\nuse crate::http::{self, OnAir};\n\
                // crate::cli::run is what main calls\n";
    assert!(check_root("daemon/mod.rs", fine).is_empty());
    let tests =
        "use crate::audio::PcmSink;\n#[cfg(test)]\nmod tests {\n use crate::daemon::AppState;\n}";
    assert!(check_root("playout/engine.rs", tests).is_empty());
    assert!(check_root("http/media/tests.rs", "use crate::daemon::AppState;").is_empty());
    // The core's own layering.
    assert_eq!(
        check(
            &CORE,
            &files("schedule/build.rs", "crate::feed::validate_category(c)")
        ),
        [
            "schedule/build.rs:1: schedule imports feed, a higher layer (pass what it needs down as a parameter or a trait)"
        ]
    );
    assert!(
        check(
            &CORE,
            &files("feed/station.rs", "use crate::schedule::Schedule;")
        )
        .is_empty()
    );
}
