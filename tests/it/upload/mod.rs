//! Uploads: the API, resumable uploads, a 200 MB streamed body, the watch folder.

mod api;
mod resume;
mod stream;
mod watch;
