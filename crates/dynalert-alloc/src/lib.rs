//! The allocator of the long-running binaries, set up to return freed memory at once.
//!
//! mimalloc hands freed pages back to the operating system only after a purge delay,
//! and it checks that delay only when the thread that freed them touches the
//! allocator again. The exporter's reload thread parses a file, frees everything when
//! the file is rejected, and goes idle: with the default delay the memory a large
//! rejected file needed stayed resident until the next reload, or forever.
//! [`return_freed_memory_at_once`] sets the delay to zero, so the `free` that empties
//! a range returns it itself. The cost is one `madvise` per emptied range, paid on the
//! reload thread, never on a scrape. Transparent huge pages are disabled at build
//! time (mimalloc's `no_thp`), so a small daemon does not hold 2 MiB per touched page.
//!
//! This is the only crate with an `unsafe` block (one FFI call); the workspace forbids
//! `unsafe` everywhere else. `crates/threshold-exporter/tests/hostile.rs` measures the
//! effect: resident memory after a rejected large file and its fix.

use std::os::raw::c_long;

pub use mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t` (`include/mimalloc.h` of the
/// vendored sources). `libmimalloc-sys` does not name it; the test below checks the
/// index against the option's documented default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes freed memory go back to the OS when it is freed instead of after a delay.
/// Call it first thing in `main`; calling it again is harmless. An operator's
/// `MIMALLOC_PURGE_DELAY` in the environment wins (mimalloc has read it already).
pub fn return_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        set_option(MI_OPTION_PURGE_DELAY, 0);
    }
}

fn set_option(option: libmimalloc_sys::mi_option_t, value: c_long) {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table (an atomic
    // store, valid from any thread at any time); the index is a valid `mi_option_t`
    // (checked by the test below) and no pointer is involved.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(option, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static GLOBAL: MiMalloc = MiMalloc;

    fn get_option(option: libmimalloc_sys::mi_option_t) -> c_long {
        // SAFETY: as in `set_option`: a read from the option table.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_get(option)
        }
    }

    #[test]
    fn the_index_is_mimallocs_purge_delay() {
        // mimalloc 3 documents a purge delay of 1000 ms by default; no other option
        // near that index has that default. The environment may override it.
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            Err(_) => {
                assert_eq!(get_option(MI_OPTION_PURGE_DELAY), 1000);
                return_freed_memory_at_once();
                assert_eq!(get_option(MI_OPTION_PURGE_DELAY), 0);
            }
            Ok(v) => {
                return_freed_memory_at_once();
                assert_eq!(get_option(MI_OPTION_PURGE_DELAY).to_string(), v.trim());
            }
        }
    }
}
