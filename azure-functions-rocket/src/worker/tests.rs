//! The worker's tests: the conversions on their own, and the message
//! handling through the generated tonic server with a scripted peer.

mod conversions;
mod durable;
mod http_uri;
mod peer;
mod stream;
