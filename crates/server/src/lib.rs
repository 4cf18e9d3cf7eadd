//! Passport's HTTP server.
