#[cfg(target_arch = "wasm32")]
fn main() {
    softphone::ui::start();
}

/// Debug builds only (`trunk build` without `--release`): panic on purpose,
/// so that the end-to-end test (tests/e2e/security.mjs) can check the panic
/// banner. Called from the page as `window.wasmBindings.__softphone_test_panic()`.
/// A release build has no such export: there is no way to crash it on purpose.
#[cfg(all(target_arch = "wasm32", debug_assertions))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn __softphone_test_panic(message: String) {
    panic!("test panic asked by the page: {message}");
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the softphone runs in a browser: build it with `trunk build` (see README.md)");
}
