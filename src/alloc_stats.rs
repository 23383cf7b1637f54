//! Heap accounting for memory measurements (cargo feature `alloc-stats`,
//! off by default: the normal build has neither this module nor any cost).
//!
//! The wasm linear memory (`memory.buffer.byteLength`) only ever grows: it is
//! the allocator's high-water mark, so a rising figure can be a leak or mere
//! fragmentation. [`Counting`] wraps the system allocator and counts the bytes
//! and blocks that are live right now, and the peak, which tells the two
//! apart. With the feature on a wasm32 build it is the global allocator and
//! the page can read it:
//!
//! ```text
//! trunk build --release --features alloc-stats --dist target/dist-alloc
//! window.wasmBindings.__softphone_alloc_stats()
//!   -> { live_bytes, live_allocs, peak_bytes, total_allocs }
//! ```
//!
//! (`bench/run.mjs` records it next to the byte length when it is there.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// A global allocator that forwards to [`System`] and counts.
pub struct Counting {
    live_bytes: AtomicUsize,
    live_allocs: AtomicUsize,
    peak_bytes: AtomicUsize,
    total_allocs: AtomicUsize,
}

/// One reading of a [`Counting`] allocator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Bytes asked for and not yet freed (the allocator's own overhead and
    /// free lists excluded).
    pub live_bytes: usize,
    /// Blocks allocated and not yet freed.
    pub live_allocs: usize,
    /// The highest `live_bytes` so far.
    pub peak_bytes: usize,
    /// Every allocation so far (reallocations included).
    pub total_allocs: usize,
}

impl Counting {
    pub const fn new() -> Self {
        Counting {
            live_bytes: AtomicUsize::new(0),
            live_allocs: AtomicUsize::new(0),
            peak_bytes: AtomicUsize::new(0),
            total_allocs: AtomicUsize::new(0),
        }
    }

    pub fn stats(&self) -> Stats {
        Stats {
            live_bytes: self.live_bytes.load(Relaxed),
            live_allocs: self.live_allocs.load(Relaxed),
            peak_bytes: self.peak_bytes.load(Relaxed),
            total_allocs: self.total_allocs.load(Relaxed),
        }
    }

    fn grew(&self, bytes: usize) {
        let now = self.live_bytes.fetch_add(bytes, Relaxed) + bytes;
        self.peak_bytes.fetch_max(now, Relaxed);
    }
}

impl Default for Counting {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            self.live_allocs.fetch_add(1, Relaxed);
            self.total_allocs.fetch_add(1, Relaxed);
            self.grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            self.live_allocs.fetch_add(1, Relaxed);
            self.total_allocs.fetch_add(1, Relaxed);
            self.grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        self.live_allocs.fetch_sub(1, Relaxed);
        self.live_bytes.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            self.total_allocs.fetch_add(1, Relaxed);
            if new_size >= layout.size() {
                self.grew(new_size - layout.size());
            } else {
                self.live_bytes.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

/// Live blocks by size, for finding what leaks: sizes 0 to
/// `EXACT_SIZES - 1` one by one, larger ones in the last slot.
pub const EXACT_SIZES: usize = 2049;

/// [`Counting`] plus the number of live blocks of each size (a leak of one
/// kind of object shows as one size whose count keeps rising).
pub struct BySize {
    counting: Counting,
    sizes: [AtomicUsize; EXACT_SIZES + 1],
}

impl BySize {
    pub const fn new() -> Self {
        #[allow(clippy::declare_interior_mutable_const)]
        const ZERO: AtomicUsize = AtomicUsize::new(0);
        BySize {
            counting: Counting::new(),
            sizes: [ZERO; EXACT_SIZES + 1],
        }
    }

    pub fn stats(&self) -> Stats {
        self.counting.stats()
    }

    /// `(size, live blocks)` for every size with live blocks; the size of
    /// the last slot is `EXACT_SIZES` and means "that or larger".
    pub fn live_by_size(&self) -> Vec<(usize, usize)> {
        self.sizes
            .iter()
            .enumerate()
            .map(|(size, n)| (size, n.load(Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    fn slot(&self, size: usize) -> &AtomicUsize {
        &self.sizes[size.min(EXACT_SIZES)]
    }
}

impl Default for BySize {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: forwards to `Counting` (which forwards to `System`) unchanged.
unsafe impl GlobalAlloc for BySize {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.counting.alloc(layout);
        if !p.is_null() {
            self.slot(layout.size()).fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = self.counting.alloc_zeroed(layout);
        if !p.is_null() {
            self.slot(layout.size()).fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.counting.dealloc(ptr, layout);
        self.slot(layout.size()).fetch_sub(1, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = self.counting.realloc(ptr, layout, new_size);
        if !p.is_null() {
            self.slot(layout.size()).fetch_sub(1, Relaxed);
            self.slot(new_size).fetch_add(1, Relaxed);
        }
        p
    }
}

#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: Traced = Traced {
    by_size: BySize::new(),
};

/// Blocks of this size are reported to the page as they come and go (0:
/// none): `window.__softphoneAllocHook(ptr, size, allocated)` is called,
/// which can record `new Error().stack` to find where a leaking block is
/// made (see `--alloc-trace` in bench/run.mjs).
#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
static TRACE_SIZE: AtomicUsize = AtomicUsize::new(0);

#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    // numbers only: the call allocates nothing on the Rust side
    #[wasm_bindgen(js_namespace = window, js_name = __softphoneAllocHook)]
    fn alloc_hook(ptr: u32, size: u32, allocated: bool);
}

/// Report blocks of `size` bytes to `window.__softphoneAllocHook` from now
/// on (0: stop).
#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn __softphone_alloc_trace(size: u32) {
    TRACE_SIZE.store(size as usize, Relaxed);
}

#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
struct Traced {
    by_size: BySize,
}

#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
impl Traced {
    fn trace(&self, ptr: *mut u8, size: usize, allocated: bool) {
        let want = TRACE_SIZE.load(Relaxed);
        if want != 0 && want == size && !ptr.is_null() {
            alloc_hook(ptr as u32, size as u32, allocated);
        }
    }

    fn live_by_size(&self) -> Vec<(usize, usize)> {
        self.by_size.live_by_size()
    }

    fn stats(&self) -> Stats {
        self.by_size.stats()
    }
}

// SAFETY: forwards to `BySize` unchanged; the hook only reads numbers.
#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
unsafe impl GlobalAlloc for Traced {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.by_size.alloc(layout);
        self.trace(p, layout.size(), true);
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = self.by_size.alloc_zeroed(layout);
        self.trace(p, layout.size(), true);
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.trace(ptr, layout.size(), false);
        self.by_size.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = self.by_size.realloc(ptr, layout, new_size);
        if !p.is_null() {
            self.trace(ptr, layout.size(), false);
            self.trace(p, new_size, true);
        }
        p
    }
}

/// Live blocks by size: `[size, count, size, count, …]` (see
/// [`BySize::live_by_size`]).
#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn __softphone_alloc_sizes() -> Vec<u32> {
    let v = GLOBAL.live_by_size();
    v.into_iter()
        .flat_map(|(s, n)| [s as u32, n as u32])
        .collect()
}

/// The page's view of [`GLOBAL`]: `{ live_bytes, live_allocs, peak_bytes,
/// total_allocs }` (numbers), plus `memory_bytes`, the linear memory's size.
#[cfg(all(feature = "alloc-stats", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn __softphone_alloc_stats() -> wasm_bindgen::JsValue {
    use js_sys::{Object, Reflect};
    let s = GLOBAL.stats();
    let o = Object::new();
    let pages = core::arch::wasm32::memory_size(0);
    for (k, v) in [
        ("live_bytes", s.live_bytes),
        ("live_allocs", s.live_allocs),
        ("peak_bytes", s.peak_bytes),
        ("total_allocs", s.total_allocs),
        ("memory_bytes", pages * 65536),
    ] {
        let _ = Reflect::set(&o, &k.into(), &(v as f64).into());
    }
    o.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_live_bytes_blocks_and_peak() {
        let a = Counting::new();
        let l1 = Layout::from_size_align(100, 8).unwrap();
        let l2 = Layout::from_size_align(40, 4).unwrap();
        unsafe {
            let p1 = a.alloc(l1);
            let p2 = a.alloc_zeroed(l2);
            assert!(!p1.is_null() && !p2.is_null());
            assert_eq!(*p2.add(39), 0);
            assert_eq!(
                a.stats(),
                Stats {
                    live_bytes: 140,
                    live_allocs: 2,
                    peak_bytes: 140,
                    total_allocs: 2
                }
            );
            let p1 = a.realloc(p1, l1, 300);
            assert_eq!(a.stats().live_bytes, 340);
            let l1 = Layout::from_size_align(300, 8).unwrap();
            let p1 = a.realloc(p1, l1, 10);
            assert_eq!(a.stats().live_bytes, 50);
            assert_eq!(a.stats().peak_bytes, 340);
            a.dealloc(p1, Layout::from_size_align(10, 8).unwrap());
            a.dealloc(p2, l2);
        }
        let s = a.stats();
        assert_eq!(
            (s.live_bytes, s.live_allocs, s.peak_bytes, s.total_allocs),
            (0, 0, 340, 4)
        );
    }

    #[test]
    fn counts_live_blocks_by_size() {
        let a = BySize::new();
        let small = Layout::from_size_align(24, 8).unwrap();
        let big = Layout::from_size_align(10_000, 8).unwrap();
        unsafe {
            let p = a.alloc(small);
            let q = a.alloc(small);
            let r = a.alloc(big);
            assert_eq!(a.live_by_size(), vec![(24, 2), (EXACT_SIZES, 1)]);
            let q = a.realloc(q, small, 48);
            assert_eq!(a.live_by_size(), vec![(24, 1), (48, 1), (EXACT_SIZES, 1)]);
            a.dealloc(p, small);
            a.dealloc(q, Layout::from_size_align(48, 8).unwrap());
            a.dealloc(r, big);
        }
        assert_eq!(a.live_by_size(), vec![]);
        assert_eq!(a.stats().live_bytes, 0);
    }
}
