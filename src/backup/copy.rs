//! Copying one file while hashing it, durably, and fsyncing folders.

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Size and SHA-256 (hex) of what was copied.
pub struct Copied {
    pub bytes: u64,
    pub sha256: String,
}

/// Copies `from` to `to` (a new file; its folders are created), hashing the bytes as they
/// pass, and fsyncs it. A file being appended to is copied as far as it was written.
pub fn copy_hashed(from: &Path, to: &Path) -> std::io::Result<Copied> {
    let mut src = std::fs::File::open(from)?;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
        bytes += n as u64;
    }
    dst.sync_all()?;
    Ok(Copied {
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Copies a small text file (settings, schedule) that an editor may be rewriting in place:
/// read until two reads in a row agree (an edit is a few writes within milliseconds), then
/// written and fsynced.
pub fn copy_settled(from: &Path, to: &Path) -> std::io::Result<Copied> {
    let mut bytes = std::fs::read(from)?;
    for _ in 0..10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let again = std::fs::read(from)?;
        if again == bytes {
            break;
        }
        bytes = again;
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    dst.write_all(&bytes)?;
    dst.sync_all()?;
    Ok(Copied {
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

/// Size and SHA-256 of a file, read once.
pub fn hash_file(path: &Path) -> std::io::Result<Copied> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(Copied {
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Fsyncs `dir` and every folder under it, so the names of what was copied are durable too.
pub fn sync_tree(dir: &Path) -> std::io::Result<()> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                stack.push(e.path());
            }
        }
        std::fs::File::open(&d)?.sync_all()?;
    }
    Ok(())
}

/// Regular files under `dir`, relative to it with `/` separators, sorted; none when it does
/// not exist.
pub fn files_under(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let rel = format!("{prefix}{name}");
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push((e.path(), format!("{rel}/")));
            } else if t.is_file() {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}
