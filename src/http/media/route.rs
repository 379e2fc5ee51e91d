//! The `/media/{file}` route: media names parsed into an episode id and file kind, looked
//! up in the catalog, and kept in [`MediaCache`] with the files' validators and bytes.

use super::*;
use crate::catalog::TranscriptKind;

/// `GET|HEAD /media/{file}`: `{id}.mp3` (the rendition), `{id}.vtt`/`{id}.srt` (the
/// transcript, when it is of that [`TranscriptKind`], served with the kind's MIME type: what
/// the feed announces), `{id}.chapters.json`, `{id}.png`/`{id}.jpg` (artwork) of a ready,
/// published episode. The name only selects an episode; its files come from the catalog
/// record.
///
/// A cached lookup ([`MediaCache`]) carries the file's validators and bytes, so a repeated
/// request does no catalog read, no file I/O and no blocking-pool hop unless its body lies
/// beyond the bytes kept in memory. A body of 16 KiB or more of a kept rendition leaves
/// from its open file with `sendfile` (`http::splice`): its pages are in the page cache since
/// the lookup read them (under memory pressure that `sendfile` may wait for the disk, as
/// nginx's does).
pub async fn media(
    State(files): State<MediaFiles>,
    State(catalog): State<CatalogAccess>,
    UrlPath(file): UrlPath<String>,
    request: Request,
) -> Response {
    let Some((id, kind)) = parse_media_name(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (parts, _) = request.into_parts();
    let Some(req) = Conditions::of(&parts.method, &parts.headers) else {
        return method_not_allowed();
    };
    let ip = parts
        .extensions
        .get::<ConnectInfo<crate::http::conn::PeerAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.0.ip());
    let user_agent = parts.headers.get(header::USER_AGENT).cloned();
    // The second round follows a file that changed under a cached lookup.
    for fresh in [false, true] {
        let generation = catalog.generation();
        let cached = (!fresh)
            .then(|| files.cache().get(&file, generation))
            .flatten();
        let found = match cached {
            Some(found) => found,
            None => {
                let (id, st) = (id.to_owned(), files.clone());
                let found = tokio::task::spawn_blocking(move || locate(&st, &id, kind)).await;
                let Ok(Some(found)) = found else {
                    return StatusCode::NOT_FOUND.into_response();
                };
                files.cache().put(file.clone(), generation, found)
            }
        };
        let report = {
            let (files, found, user_agent) = (files.clone(), found.clone(), user_agent.clone());
            move |d: Delivery| {
                let Some(file) = &found.episode else { return };
                let user_agent = user_agent.as_ref().and_then(|v| v.to_str().ok());
                files.observe_download(
                    file,
                    &Served {
                        head: d.head,
                        status: d.status,
                        start: d.start,
                        bytes: d.bytes,
                        ip,
                        user_agent: user_agent.unwrap_or(""),
                    },
                );
            }
        };
        if let Some(response) =
            serve_state(&found.path, &found.file, found.mime, &req, report).await
        {
            return response;
        }
        files.cache().remove(&file);
    }
    StatusCode::NOT_FOUND.into_response()
}

/// A located episode file: its path and type, for audio what download counting needs, and the
/// file's state as read when it was located.
#[derive(Debug)]
pub struct Located {
    pub path: PathBuf,
    pub mime: &'static str,
    pub episode: Option<EpisodeFile>,
    pub file: FileState,
}

/// Lookups of `/media` names with the files' validators and (within [`CACHE_BUDGET`]) bytes,
/// kept until the catalog changes (in-process changes clear it at once; [`CACHE_TTL`] bounds
/// staleness after writes from another process). Only files that exist are kept, so unknown
/// names cannot grow it.
#[derive(Debug, Default)]
pub struct MediaCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    /// The catalog generation the entries belong to.
    generation: u64,
    /// File bytes held by the entries.
    kept: usize,
    /// Lookups by media name, with when each was made.
    entries: HashMap<String, (Arc<Located>, Instant)>,
}

impl CacheInner {
    fn remove(&mut self, name: &str) {
        if let Some((old, _)) = self.entries.remove(name) {
            self.kept -= old.file.kept();
        }
    }
}

/// Renditions the cache keeps open to send their kept bytes with `sendfile`, at most: the
/// descriptors come from the reserve the connection limit leaves (`conn::FD_RESERVE`), and
/// a station's requests go mostly to its latest episodes.
pub const SPLICE_FILES: usize = 64;

/// How long a cached lookup is trusted without a catalog notification.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

impl MediaCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lookup of media name `name` made under catalog `generation`, if still fresh.
    pub fn get(&self, name: &str, generation: u64) -> Option<Arc<Located>> {
        let mut inner = self.lock();
        if inner.generation != generation {
            *inner = CacheInner {
                generation,
                ..CacheInner::default()
            };
            return None;
        }
        match inner.entries.get(name) {
            Some((found, at)) if at.elapsed() < CACHE_TTL => Some(found.clone()),
            _ => None,
        }
    }

    /// Keeps `found` for `name` (when `generation` is still current), with as many of its
    /// bytes as the budget allows, and returns it.
    pub fn put(&self, name: String, generation: u64, mut found: Located) -> Arc<Located> {
        let mut inner = self.lock();
        if inner.generation != generation {
            return Arc::new(found);
        }
        inner.remove(&name);
        if inner.kept + found.file.kept() > CACHE_BUDGET {
            // Expired lookups give their bytes back first (misses only: at most one per name
            // per TTL).
            inner.entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            inner.kept = inner.entries.values().map(|(f, _)| f.file.kept()).sum();
        }
        let room = CACHE_BUDGET.saturating_sub(inner.kept);
        let kept = &found.file.kept;
        if kept.len() > room {
            // A copy, so that the larger buffer is freed.
            let prefix = (KEEP_PREFIX as usize).min(kept.len());
            found.file.kept = if prefix <= room {
                Bytes::copy_from_slice(&kept[..prefix])
            } else {
                Bytes::new()
            };
        }
        if found.file.kept() < MIN_SPLICE
            || inner
                .entries
                .values()
                .filter(|(f, _)| f.file.spliced())
                .count()
                >= SPLICE_FILES
        {
            found.file.send_from_memory();
        }
        inner.kept += found.file.kept();
        let found = Arc::new(found);
        inner.entries.insert(name, (found.clone(), Instant::now()));
        found
    }

    /// Forgets the lookup of `name`.
    pub fn remove(&self, name: &str) {
        self.lock().remove(name);
    }

    /// File bytes held in memory.
    pub fn kept_bytes(&self) -> usize {
        self.lock().kept
    }
}

/// Which file of an episode a media name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Audio,
    Transcript(TranscriptKind),
    Chapters,
    Png,
    Jpg,
}

/// `{id}.{ext}` with an id of ASCII letters, digits and dashes (catalog ids are UUIDs), or
/// `None`: nothing else is ever looked up.
pub fn parse_media_name(name: &str) -> Option<(&str, MediaKind)> {
    let (id, kind) = if let Some(id) = name.strip_suffix(".chapters.json") {
        (id, MediaKind::Chapters)
    } else {
        let (id, ext) = name.split_once('.')?;
        let kind = match ext {
            "mp3" => MediaKind::Audio,
            "png" => MediaKind::Png,
            "jpg" => MediaKind::Jpg,
            _ => MediaKind::Transcript(TranscriptKind::from_ext(ext)?),
        };
        (id, kind)
    };
    let valid = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some((id, kind))
}

/// The file (inside the data folder) and type of `kind` for episode `id`, and for audio what
/// download counting needs; `None` when there is no such ready, published file (blocking).
fn locate(files: &MediaFiles, id: &str, kind: MediaKind) -> Option<Located> {
    let ep = files.catalog().episode(id).ok()??;
    if ep.status != EpisodeStatus::Ready || !ep.published {
        return None;
    }
    let artwork = |want: &str| {
        ep.artwork_path
            .as_deref()
            .filter(|p| crate::feed::ArtworkFormat::of(p).ext() == want)
    };
    let (rel, mime) = match kind {
        MediaKind::Audio => (ep.rendition_path.as_deref()?, "audio/mpeg"),
        MediaKind::Transcript(want) => match (ep.transcript_type, &ep.transcript_path) {
            (Some(kind), Some(rel)) if kind == want => (rel.as_str(), kind.mime()),
            _ => return None,
        },
        MediaKind::Chapters => (ep.chapters_path.as_deref()?, "application/json+chapters"),
        MediaKind::Png => (artwork("png")?, "image/png"),
        MediaKind::Jpg => (artwork("jpg")?, "image/jpeg"),
    };
    let path = resolve_in(files.data_dir(), rel)?;
    let mut opened = std::fs::File::open(&path).ok()?;
    let mut file = FileState::read(&mut opened, KEEP_WHOLE, KEEP_PREFIX).ok()?;
    if kind == MediaKind::Audio && file.kept() >= MIN_SPLICE {
        // A rendition is never changed in place: its bytes may go out from the file.
        file.send_from(opened);
    }
    let episode = (kind == MediaKind::Audio).then(|| {
        let length = file.len;
        let header_bytes = match file.kept.get(..10) {
            Some(first) => first.try_into().ok().and_then(id3_size_of),
            None => None,
        };
        let header_bytes = header_bytes.unwrap_or(0).min(length);
        let audio = length - header_bytes;
        let bytes_per_second = match ep.duration_ms {
            Some(ms) if ms >= 1000 => audio * 1000 / ms,
            _ => u64::from(files.stream_bitrate_kbps()) * 125,
        };
        EpisodeFile {
            id: ep.id.clone(),
            length,
            header_bytes,
            bytes_per_second: bytes_per_second.max(1),
        }
    });
    Some(Located {
        path,
        mime,
        episode,
        file,
    })
}

/// Size of the leading ID3v2 tag of the file at `path` (header, syncsafe size, footer), or
/// `None` without one.
pub fn id3_size(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut header = [0u8; 10];
    std::fs::File::open(path)
        .ok()?
        .read_exact(&mut header)
        .ok()?;
    id3_size_of(&header)
}

/// [`id3_size`] of a file's first ten bytes.
pub fn id3_size_of(header: &[u8; 10]) -> Option<u64> {
    if &header[..3] != b"ID3" || header[6..].iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    let size = header[6..]
        .iter()
        .fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}
