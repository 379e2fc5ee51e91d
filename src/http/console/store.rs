//! The schedule file on disk and its saved versions (blocking IO: call off the runtime).
//!
//! - The editor carries the SHA-256 of the text it loaded; a save whose file changed on disk
//!   since (someone edited it over SSH) is refused ([`SaveError::Changed`]).
//! - A save is atomic: a temporary file beside the schedule, fsynced, renamed over it, the
//!   folder fsynced. The daemon's reload (a folder watcher) sees the rename.
//! - Every saved version is kept in `history/YEAR/STEM-TIMESTAMP.toml` with a
//!   `.json` beside it (who, when, what it restored); the text that was on disk before a save,
//!   when history does not hold it yet (a first save, an edit over SSH), is kept first, so
//!   any version can be restored.

use std::path::{Path, PathBuf};

use sha2::Digest;

/// The SHA-256 of a text, hex.
pub fn hash(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// One saved version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Version {
    /// Its file name in the history (`weekly-20261206T083012.345Z.toml`).
    #[serde(skip)]
    pub name: String,
    pub at: jiff::Timestamp,
    /// The operator who saved it (or `None`: the text found on disk before a save).
    pub who: Option<String>,
    pub sha256: String,
    /// The version it restored, if it was a restore.
    #[serde(default)]
    pub restored: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the file changed on disk since the editor loaded it")]
    Changed,
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SaveError + '_ {
    move |e| SaveError::Io(path.to_path_buf(), e)
}

/// The schedule's text and its hash.
pub fn read(path: &Path) -> std::io::Result<(String, String)> {
    let text = std::fs::read_to_string(path)?;
    let h = hash(&text);
    Ok((text, h))
}

/// Saves `text` over `path` if the file still has hash `base`, keeping the version in
/// `history`; `restored` names the version this one restores.
pub fn save(
    path: &Path,
    history: &Path,
    text: &str,
    base: &str,
    who: &str,
    restored: Option<&str>,
    now: jiff::Timestamp,
) -> Result<Version, SaveError> {
    let current = std::fs::read_to_string(path).map_err(io(path))?;
    if hash(&current) != base {
        return Err(SaveError::Changed);
    }
    let stem = stem(path);
    let versions = list(history, &stem).map_err(io(history))?;
    if versions.first().is_none_or(|v| v.sha256 != hash(&current)) {
        // What was on disk is not in the history yet: keep it, a millisecond earlier.
        let before = now - jiff::SignedDuration::from_millis(1);
        keep(history, &stem, &current, None, None, before)?;
    }
    write_atomic(path, text)?;
    keep(history, &stem, text, Some(who), restored, now)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "schedule".into())
}

/// Writes a temporary file beside `path`, fsyncs it, renames it over `path`, fsyncs the folder.
fn write_atomic(path: &Path, text: &str) -> Result<(), SaveError> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.console-{}.tmp",
        stem(path),
        hex::encode(rand::random::<[u8; 6]>())
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        // Keep the original's permissions (the daemon's user must still read it).
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}

/// Writes one version (and its `.json`) into the history.
fn keep(
    history: &Path,
    stem: &str,
    text: &str,
    who: Option<&str>,
    restored: Option<&str>,
    at: jiff::Timestamp,
) -> Result<Version, SaveError> {
    let year = at.strftime("%Y").to_string();
    let dir = history.join(&year);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let base = format!("{stem}-{}", at.strftime("%Y%m%dT%H%M%S.%3fZ"));
    let mut name = format!("{base}.toml");
    let mut n = 2;
    while dir.join(&name).exists() {
        name = format!("{base}-{n}.toml");
        n += 1;
    }
    let version = Version {
        name: name.clone(),
        at,
        who: who.map(str::to_owned),
        sha256: hash(text),
        restored: restored.map(str::to_owned),
    };
    let file = dir.join(&name);
    std::fs::write(&file, text).map_err(io(&file))?;
    let meta = dir.join(name.replace(".toml", ".json"));
    let json = serde_json::to_vec_pretty(&version).unwrap_or_default();
    std::fs::write(&meta, json).map_err(io(&meta))?;
    Ok(version)
}

/// The saved versions of schedule `stem`, newest first.
pub fn list(history: &Path, stem: &str) -> std::io::Result<Vec<Version>> {
    let mut out = Vec::new();
    let years = match std::fs::read_dir(history) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for year in years.filter_map(Result::ok) {
        let Ok(files) = std::fs::read_dir(year.path()) else {
            continue;
        };
        for f in files.filter_map(Result::ok) {
            let name = f.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") || !name.starts_with(&format!("{stem}-")) {
                continue;
            }
            let Ok(bytes) = std::fs::read(f.path()) else {
                continue;
            };
            if let Ok(mut v) = serde_json::from_slice::<Version>(&bytes) {
                v.name = name.replace(".json", ".toml");
                out.push(v);
            }
        }
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then(b.name.cmp(&a.name)));
    Ok(out)
}

/// The text of version `name` (a file name of [`list`], nothing else).
pub fn version_text(history: &Path, stem: &str, name: &str) -> std::io::Result<Option<String>> {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !name.starts_with('.');
    if !plain || !list(history, stem)?.iter().any(|v| v.name == name) {
        return Ok(None);
    }
    // `STEM-YYYY...`: the year folder is the timestamp's.
    let year = &name[stem.len() + 1..stem.len() + 5];
    std::fs::read_to_string(history.join(year).join(name)).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_keep_every_version_and_refuse_a_file_changed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let (path, history) = (dir.path().join("weekly.toml"), dir.path().join("history"));
        std::fs::write(&path, "a = 1\n").unwrap();
        let (_, h0) = read(&path).unwrap();
        let t = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let v = save(&path, &history, "a = 2\n", &h0, "alice", None, t).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        let all = list(&history, "weekly").unwrap();
        assert_eq!(all.len(), 2, "the text found on disk is kept too: {all:?}");
        assert_eq!(all[0], v);
        assert_eq!(all[1].who, None);
        assert_eq!(
            version_text(&history, "weekly", &all[1].name)
                .unwrap()
                .unwrap(),
            "a = 1\n"
        );
        // Saved from an editor that loaded the first text: refused, nothing written.
        let late = save(&path, &history, "a = 3\n", &h0, "bob", None, t);
        assert!(matches!(late, Err(SaveError::Changed)), "{late:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        // The next save from the current hash adds one version only.
        let t2 = t + jiff::SignedDuration::from_secs(60);
        save(
            &path,
            &history,
            "a = 3\n",
            &hash("a = 2\n"),
            "bob",
            None,
            t2,
        )
        .unwrap();
        assert_eq!(list(&history, "weekly").unwrap().len(), 3);
        // Names that are not listed are not read.
        assert_eq!(
            version_text(&history, "weekly", "../weekly.toml").unwrap(),
            None
        );
        assert_eq!(
            version_text(&history, "weekly", "weekly-1.toml").unwrap(),
            None
        );
        // No temporary file is left beside the schedule.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
    }
}
