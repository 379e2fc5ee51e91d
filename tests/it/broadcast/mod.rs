//! The broadcast: the hub's fan-out, `/stream` over HTTP, the Icecast source client.

mod http;
mod hub;
mod icecast;
mod opus;
mod opus_titles;
mod served;
