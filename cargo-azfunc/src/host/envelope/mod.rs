//! The invocation body the host sends ([`request`]) and what the host
//! makes of the handler's reply ([`reply`]).

mod reply;
mod request;

pub use reply::*;
pub use request::*;

#[cfg(test)]
pub(crate) mod tests;
