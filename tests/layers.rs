//! The layers' rules (docs/architecture.md), checked on the source: the
//! pure layers (`src/sip/`, `src/app/`) use no browser API, no Leptos, no
//! async, no clock and no thread-local state; the browser edges
//! (`src/web/`) never import the UI (`src/ui/`). Test modules are not
//! held to the first rule (they may make a start time).

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn files(layer: &str) -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(layer),
        &mut paths,
    );
    assert!(!paths.is_empty(), "no files in src/{layer}");
    paths
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).expect("readable");
            (p, text)
        })
        .collect()
}

/// The code of a file without its comments and its test modules.
fn code(path: &Path, text: &str) -> String {
    if path
        .file_name()
        .is_some_and(|n| n == "tests.rs" || n == "classify_tests.rs")
    {
        return String::new();
    }
    let until_tests = text.split("#[cfg(test)]").next().unwrap_or("");
    until_tests
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_pure_layers_touch_no_browser_no_async_no_clock() {
    let forbidden = [
        "web_sys",
        "js_sys",
        "wasm_bindgen",
        "leptos",
        "gloo",
        "async fn",
        ".await",
        "Instant::now()",
        "SystemTime",
        "thread_local!",
        "crate::web",
        "crate::ui",
    ];
    let mut found = Vec::new();
    for layer in ["sip", "app"] {
        for (path, text) in files(layer) {
            let code = code(&path, &text);
            for word in forbidden {
                if code.contains(word) {
                    found.push(format!("{}: {word}", path.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_core_does_not_know_the_phone_above_it() {
    let found: Vec<String> = files("sip")
        .into_iter()
        .filter(|(p, t)| code(p, t).contains("crate::app"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_browser_edges_never_import_the_ui() {
    let found: Vec<String> = files("web")
        .into_iter()
        .filter(|(p, t)| {
            let code = code(p, t);
            code.contains("crate::ui") || code.contains("super::super::ui")
        })
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}
