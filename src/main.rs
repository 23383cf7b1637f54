#[cfg(target_arch = "wasm32")]
fn main() {
    softphone::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the softphone runs in a browser: build it with `trunk build` (see README.md)");
}
