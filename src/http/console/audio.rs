//! Replacing an episode's recording from the console: a multipart form (the CSRF token
//! first, then the file) streamed to disk and hashed as uploads are
//! ([`crate::ingest::intake`]'s stager), stored as a new original beside the old one, then
//! the episode queued again in one catalog transaction (same id, same feed guid); the old
//! original is removed once the catalog points at the new one.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::audit;
use super::page;
use super::session::Operator;
use super::text::t;
use crate::catalog::{CatalogError, NewOriginal};
use crate::http::ApiError;
use crate::http::state::{CatalogAccess, HttpConfig};
use crate::ingest::intake::{self, ORIGINALS_DIR, StagerHandle};

/// `POST /console/episodes/{id}/audio` (multipart: `csrf`, then `file`).
pub async fn replace(
    op: Operator,
    State(catalog): State<CatalogAccess>,
    State(config): State<Arc<HttpConfig>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let lang = op.lang;
    let refuse =
        |status, key| page::message(status, lang, t(lang, "replace_refused"), t(lang, key));
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| ApiError::BadRequest("expected multipart/form-data".into()))?;
    let mut form = multer::Multipart::new(req.into_body().into_data_stream(), boundary);
    let mut csrf_ok = false;
    let mut stage: Option<(StagerHandle, Option<String>)> = None;
    let limit = config.upload_limit_bytes;
    let malformed =
        |e: multer::Error| ApiError::BadRequest(format!("interrupted or malformed: {e}"));
    let result: Result<(), Response> = async {
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|e| malformed(e).into_response())?
        {
            match field.name().unwrap_or_default() {
                "csrf" => {
                    let v = field.text().await.unwrap_or_default();
                    csrf_ok = v.len() == op.csrf.len()
                        && v.bytes()
                            .zip(op.csrf.bytes())
                            .fold(0u8, |a, (x, y)| a | (x ^ y))
                            == 0;
                }
                "file" if !csrf_ok => return Err(refuse(StatusCode::FORBIDDEN, "csrf_body")),
                "file" if stage.is_none() => {
                    let name = field.file_name().map(str::to_owned);
                    let handle = intake::spawn_stager(catalog.catalog().data_dir())
                        .map_err(|e| ApiError::Internal(e.into()).into_response())?;
                    let mut bytes = 0u64;
                    let mut ok = true;
                    while let Some(chunk) = field
                        .chunk()
                        .await
                        .map_err(|e| malformed(e).into_response())?
                    {
                        bytes += chunk.len() as u64;
                        if bytes > limit || handle.send(chunk).await.is_err() {
                            ok = false;
                            break;
                        }
                    }
                    stage = Some((handle, name));
                    if !ok {
                        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "replace_too_large"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    if let Err(resp) = result {
        if let Some((h, _)) = stage {
            h.abort().await;
        }
        return Ok(resp);
    }
    if !csrf_ok {
        return Ok(refuse(StatusCode::FORBIDDEN, "csrf_body"));
    }
    let Some((handle, name)) = stage else {
        return Ok(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "replace_not_audio",
        ));
    };
    let staged = handle
        .finish()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let (c, episode) = (catalog.catalog().clone(), id.clone());
    let done =
        tokio::task::spawn_blocking(move || -> Result<Result<String, &'static str>, ApiError> {
            let (Some(container), true) = (staged.container, staged.bytes > 0) else {
                let _ = std::fs::remove_file(&staged.path);
                return Ok(Err("replace_not_audio"));
            };
            let short = &staged.sha256[..12];
            let rel = format!("{ORIGINALS_DIR}/{episode}-{short}.{}", container.ext());
            let dir = c.data_dir().join(ORIGINALS_DIR);
            let dest = c.data_dir().join(&rel);
            let stored = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::rename(&staged.path, &dest))
                .and_then(|()| intake::sync_dir(&dir));
            if let Err(e) = stored {
                let _ = std::fs::remove_file(&staged.path);
                return Err(ApiError::Internal(e.into()));
            }
            let new = NewOriginal {
                sha256: staged.sha256.clone(),
                path: rel.clone(),
                bytes: staged.bytes,
                name,
            };
            match c.replace_original(&episode, &new, jiff::Timestamp::now()) {
                Ok(Some(old)) => {
                    if old != rel {
                        let _ = std::fs::remove_file(c.data_dir().join(&old));
                    }
                    Ok(Ok(rel))
                }
                Ok(None) => {
                    let _ = std::fs::remove_file(&dest);
                    Ok(Err("replace_busy"))
                }
                Err(CatalogError::Duplicate(_)) => {
                    let _ = std::fs::remove_file(&dest);
                    Ok(Err("replace_duplicate"))
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&dest);
                    Err(ApiError::Internal(e.into()))
                }
            }
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))??;
    match done {
        Ok(rel) => {
            catalog.ingest_queued();
            catalog.changed();
            audit(&catalog, &op.who, "episode.audio", format!("{id}: {rel}")).await;
            Ok(page::see_other(&format!(
                "/console/episodes/{id}?lang={}",
                lang.code()
            )))
        }
        Err(key) => {
            let status = match key {
                "replace_not_audio" => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            Ok(refuse(status, key))
        }
    }
}
