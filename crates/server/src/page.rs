//! The page from `server.static_dir`, served at `/`.
//!
//! The few files are read once at start-up into memory: no disk access per
//! request, and no path from a request ever reaches the file system, so
//! there is nothing to traverse.

use std::collections::HashMap;
use std::path::Path;

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;

/// No inline script or style, nothing from elsewhere, never framed.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'; object-src 'none'";

// Bounds on what is loaded, so a mistaken static_dir (say, `/`) fails
// quickly instead of reading a disk into memory.
const MAX_FILES: usize = 256;
const MAX_TOTAL_BYTES: u64 = 32 * 1024 * 1024;
const MAX_DEPTH: usize = 4;

/// Directories of the page's sources that are not part of the page.
const SKIPPED_DIRS: [&str; 2] = ["tests", "node_modules"];

#[derive(Debug, Clone)]
struct PageFile {
    bytes: Bytes,
    mime: &'static str,
}

/// The page's files, by URL path without the leading `/`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    files: HashMap<String, PageFile>,
}

/// Why the page could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// Reading the directory or a file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The path at fault.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// More files or bytes than a page has.
    #[error("{0} holds more than a page (over {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes)")]
    TooLarge(String),
}

impl Page {
    /// Loads the files under `dir` with a known type (dotfiles, `tests/` and
    /// `node_modules/` left out).
    pub(crate) fn load(dir: &Path) -> Result<Self, PageError> {
        let mut page = Page::default();
        let mut total = 0;
        page.walk(dir, "", 0, &mut total)?;
        Ok(page)
    }

    fn walk(
        &mut self,
        dir: &Path,
        prefix: &str,
        depth: usize,
        total: &mut u64,
    ) -> Result<(), PageError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| PageError::Io { path, source }
        };
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type().map_err(io(&path))?;
            if kind.is_dir() {
                if depth < MAX_DEPTH && !SKIPPED_DIRS.contains(&name) {
                    self.walk(&path, &format!("{prefix}{name}/"), depth + 1, total)?;
                }
                continue;
            }
            let Some(mime) = mime_of(name) else { continue };
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            *total += bytes.len() as u64;
            if self.files.len() >= MAX_FILES || *total > MAX_TOTAL_BYTES {
                return Err(PageError::TooLarge(dir.display().to_string()));
            }
            self.files.insert(
                format!("{prefix}{name}"),
                PageFile {
                    bytes: Bytes::from(bytes),
                    mime,
                },
            );
        }
        Ok(())
    }

    /// Whether the page has no files.
    pub(crate) fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file for URL `path` (`/` and `/dir/` mean their `index.html`).
    pub(crate) fn respond(&self, path: &str) -> Option<HttpResponse> {
        let key = path.strip_prefix('/')?;
        let file = if key.is_empty() || key.ends_with('/') {
            self.files.get(&format!("{key}index.html"))
        } else {
            self.files.get(key)
        }?;
        Some(
            HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, file.mime))
                .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
                .insert_header((header::REFERRER_POLICY, "no-referrer"))
                .insert_header((header::X_FRAME_OPTIONS, "DENY"))
                // Revalidate each time: a new release is seen at once.
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .body(file.bytes.clone()),
        )
    }
}

fn mime_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_page_and_leaves_out_tests_and_dotfiles() {
        let dir = std::env::temp_dir().join(format!("passport-page-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("tests/node_modules")).unwrap();
        std::fs::create_dir_all(dir.join("img")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.join("app.js"), "1").unwrap();
        std::fs::write(dir.join(".env"), "SECRET").unwrap();
        std::fs::write(dir.join("notes.md"), "x").unwrap();
        std::fs::write(dir.join("img/logo.svg"), "<svg/>").unwrap();
        std::fs::write(dir.join("tests/a.test.mjs"), "x").unwrap();
        let page = Page::load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(page.files.len(), 3);
        let index = page.respond("/").unwrap();
        assert_eq!(
            index.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        assert!(page.respond("/img/logo.svg").is_some());
        for missing in [
            "/.env",
            "/notes.md",
            "/tests/a.test.mjs",
            "/../x",
            "/img",
            "",
        ] {
            assert!(page.respond(missing).is_none(), "{missing}");
        }
    }
}
