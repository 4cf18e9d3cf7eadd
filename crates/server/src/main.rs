//! `passport-server`: tracing, config, build, run.

fn main() {}
