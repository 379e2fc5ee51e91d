//! `manifest.json`: what a backup holds, file by file (relative path, size, SHA-256), read
//! back and checked before anything is restored.

use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

/// The manifest's file name at the top of a backup.
pub const MANIFEST: &str = "manifest.json";
/// The value of `format`: tells a backup from any other JSON file.
pub const FORMAT: &str = "antenne-backup";
/// The manifest version this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The Antenne version that took it.
    pub antenne: String,
    pub created_at: jiff::Timestamp,
    /// The catalog's schema version in the backup.
    pub catalog_schema: u32,
    /// Every file, sorted by path.
    pub files: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative, `/`-separated, under `data/` or `config/`.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Where an entry goes at restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Data,
    Config,
}

impl Entry {
    /// The entry's part and its path inside it, when its path is one a backup may hold (no
    /// `..`, no absolute path): a manifest cannot send a file outside the target.
    pub fn place(&self) -> Option<(Part, &str)> {
        let (part, rest) = if let Some(rest) = self.path.strip_prefix("data/") {
            (Part::Data, rest)
        } else if let Some(rest) = self.path.strip_prefix("config/") {
            (Part::Config, rest)
        } else {
            return None;
        };
        let safe = !rest.is_empty()
            && !rest.contains('\\')
            && Path::new(rest)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        safe.then_some((part, rest))
    }
}

impl Manifest {
    /// Parses a manifest; an error says why it is not one this build reads.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if m.format != FORMAT {
            return Err(format!("format {:?}, not {FORMAT:?}", m.format));
        }
        if m.version != VERSION {
            return Err(format!(
                "manifest version {} (this Antenne reads {VERSION})",
                m.version
            ));
        }
        Ok(m)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a manifest serialises");
        out.push(b'\n');
        out
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            path: path.into(),
            bytes: 1,
            sha256: String::new(),
        }
    }

    #[test]
    fn only_paths_inside_data_or_config_are_placed() {
        assert_eq!(
            entry("data/renditions/a.mp3").place(),
            Some((Part::Data, "renditions/a.mp3"))
        );
        assert_eq!(
            entry("config/antenne.toml").place(),
            Some((Part::Config, "antenne.toml"))
        );
        for bad in [
            "data/../etc/passwd",
            "data//etc",
            "/data/x",
            "config/",
            "other/x",
            "data/./x",
            "data/a\\..\\b",
        ] {
            assert_eq!(entry(bad).place(), None, "{bad}");
        }
    }

    #[test]
    fn a_manifest_of_another_format_or_version_is_refused() {
        let m = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            antenne: "0".into(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            catalog_schema: 2,
            files: vec![entry("data/catalog.sqlite3")],
        };
        assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
        let other = String::from_utf8(m.to_json()).unwrap().replace(FORMAT, "x");
        assert!(
            Manifest::parse(other.as_bytes())
                .unwrap_err()
                .contains("format")
        );
        assert!(Manifest::parse(b"{").is_err());
    }
}
