//! Passport's rules, tested end to end over real stores: the memory store,
//! and with feature `redis` the same suite against a private redis-server.
// Test binaries: `pub` items in their modules are reachable from the
// test modules only, which is what they are for.
#![allow(unreachable_pub)]

mod errors;
mod flow;
mod parse;
mod senders;
mod support;
