//! Which episode an occurrence plays: `premiere`, `latest` or `rerun`, decided once per
//! occurrence and recorded in the catalog (`airings`), so a restart mid-show plays the same one.

use std::path::PathBuf;

use crate::catalog::{Catalog, Episode, EpisodeQuery, EpisodeStatus};
use crate::schedule::{Occurrence, Play};

/// An episode chosen for an occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub id: String,
    pub title: String,
    /// Absolute path of the rendition.
    pub path: PathBuf,
}

/// The planner's view of the catalog.
pub trait Episodes: Send + Sync {
    /// The episode `occ` plays (its `play` is premiere, latest or rerun); `None`: nothing to play.
    fn choose(&self, occ: &Occurrence) -> Option<Chosen>;
}

/// No catalog: every episodic occurrence falls back.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEpisodes;

impl Episodes for NoEpisodes {
    fn choose(&self, _occ: &Occurrence) -> Option<Chosen> {
        None
    }
}

/// The catalog's choices; see the module doc.
#[derive(Clone)]
pub struct CatalogEpisodes {
    catalog: Catalog,
}

impl CatalogEpisodes {
    pub fn new(catalog: Catalog) -> CatalogEpisodes {
        CatalogEpisodes { catalog }
    }

    fn candidate(&self, occ: &Occurrence) -> crate::catalog::Result<Option<Episode>> {
        match occ.play {
            // Newest ready episode never aired.
            Play::Premiere => Ok(self.catalog.unaired_ready(&occ.show)?.into_iter().next()),
            Play::Latest => Ok(self
                .catalog
                .list_episodes(&EpisodeQuery {
                    show: Some(occ.show.clone()),
                    status: Some(EpisodeStatus::Ready),
                    limit: Some(1),
                    ..EpisodeQuery::default()
                })?
                .into_iter()
                .next()),
            Play::Rerun => self.catalog.last_premiered(&occ.show),
            _ => Ok(None),
        }
    }

    fn chosen(&self, e: Episode) -> Option<Chosen> {
        if e.status != EpisodeStatus::Ready || !e.published {
            return None;
        }
        let path = self.catalog.data_dir().join(e.rendition_path?);
        Some(Chosen {
            id: e.id,
            title: e.title,
            path,
        })
    }

    fn try_choose(&self, occ: &Occurrence) -> crate::catalog::Result<Option<Chosen>> {
        // A recorded choice stands, as long as the episode is still on offer.
        if let Some(id) = self.catalog.airing_for(&occ.id, None, occ.start)? {
            return Ok(self.catalog.episode(&id)?.and_then(|e| self.chosen(e)));
        }
        let Some(episode) = self.candidate(occ)? else {
            return Ok(None);
        };
        let id = self
            .catalog
            .airing_for(&occ.id, Some(&episode.id), occ.start)?;
        match id {
            Some(id) if id != episode.id => {
                Ok(self.catalog.episode(&id)?.and_then(|e| self.chosen(e)))
            }
            _ => Ok(self.chosen(episode)),
        }
    }
}

impl Episodes for CatalogEpisodes {
    fn choose(&self, occ: &Occurrence) -> Option<Chosen> {
        match self.try_choose(occ) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(occurrence = %occ.id, error = %e, "playout: catalog unavailable; the fallback plays");
                None
            }
        }
    }
}
