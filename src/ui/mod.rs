//! Leptos UI.

pub fn start() {}
