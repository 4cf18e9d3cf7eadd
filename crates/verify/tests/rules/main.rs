//! Passport's rules, tested end to end over real stores: the memory store,
//! and with feature `redis` the same suite against a private redis-server.

mod errors;
mod flow;
mod parse;
mod senders;
mod support;
#[cfg(feature = "webhook")]
mod webhook;
