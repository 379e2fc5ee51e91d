//! Podcast feeds: the cover, HTTP rules, the RSS itself, download counting, and the feeds as
//! a station serves them.

mod cover;
mod http;
mod rss;
mod served;
mod stats;
mod wiring;
