//! Audience figures (issue 16): sessions recorded from the hub on a paused clock and
//! aggregated exactly, the user-agent families, the schema that cannot hold an address, the
//! operator page's SVG and CSV, and `antenne report audience`.

mod clients;
mod hls;
mod page;
mod record;
mod schema;
