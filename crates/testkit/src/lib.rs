//! Test support shared by every Passport crate: a private `redis-server` on a
//! free port that a test can stop and restart.
