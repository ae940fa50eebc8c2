//! The global allocator: mimalloc, called on its plain paths.
//!
//! musl's own allocator serialises threads and is slow on many small
//! allocations: mimalloc makes the static build as fast as a glibc one.
//! The `mimalloc` crate sends every allocation through mimalloc's aligned
//! entry points; almost all of ours need no more than the 8 bytes every
//! mimalloc block is aligned to, and the plain entry points are shorter.
//! (Not 16: a block of a 24-byte size class is only 8-byte aligned.)

#[cfg(feature = "mimalloc")]
use std::alloc::{GlobalAlloc, Layout};

#[cfg(feature = "mimalloc")]
use libmimalloc_sys as ffi;

/// What every mimalloc block is aligned to on 64-bit targets.
#[cfg(feature = "mimalloc")]
const PLAIN_ALIGN: usize = 8;

/// mimalloc, as the crate's global allocator.
#[cfg(feature = "mimalloc")]
pub struct Allocator;

/// mimalloc v2's `mi_option_arena_eager_commit` (its `mimalloc.h`; the
/// crate names v3's options only).
#[cfg(all(feature = "mimalloc", target_os = "linux"))]
const ARENA_EAGER_COMMIT: ffi::mi_option_t = 4;

/// Arena memory committed as it is used, not a whole first chunk at once:
/// idle RSS 3.4 MiB instead of 5.2 MiB (same binary, with and without
/// `MIMALLOC_ARENA_EAGER_COMMIT=0`). Set from a constructor, before the
/// first allocation reserves the first arena.
#[cfg(all(feature = "mimalloc", target_os = "linux"))]
#[used]
#[unsafe(link_section = ".init_array")]
static COMMIT_ON_DEMAND: extern "C" fn() = commit_on_demand;

#[cfg(all(feature = "mimalloc", target_os = "linux"))]
extern "C" fn commit_on_demand() {
    // SAFETY: setting an option is allowed at any time; it takes effect
    // for arenas reserved afterwards.
    unsafe { ffi::mi_option_set(ARENA_EAGER_COMMIT, 0) }
}

#[cfg(feature = "mimalloc")]
// SAFETY: each method hands the layout's size and alignment to the
// mimalloc function that honours both, and frees with mimalloc.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                ffi::mi_malloc(layout.size()).cast()
            } else {
                ffi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                ffi::mi_zalloc(layout.size()).cast()
            } else {
                ffi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { ffi::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                ffi::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                ffi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    use super::*;

    #[test]
    fn every_alignment_is_honoured() {
        for align in [1, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 16, 24, 40, 100, 5000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let allocator = Allocator;
                unsafe {
                    let ptr = allocator.alloc(layout);
                    assert!(!ptr.is_null());
                    assert_eq!(ptr as usize % align, 0, "{size} bytes at {align}");
                    let grown = allocator.realloc(ptr, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown {size} at {align}");
                    allocator.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    let zeroed = allocator.alloc_zeroed(layout);
                    assert!(
                        std::slice::from_raw_parts(zeroed, size)
                            .iter()
                            .all(|&b| b == 0)
                    );
                    allocator.dealloc(zeroed, layout);
                }
            }
        }
    }
}

/// Returns freed memory to the OS. mimalloc purges freed memory 1 s after
/// it was freed, and then only when a thread next calls into it: during
/// and after a burst of large invocations hundreds of MiB stayed resident
/// (`scripts/memory`). Called after each large invocation and once a
/// second by the connection watcher; with another allocator it does
/// nothing.
pub(crate) fn give_back_memory() {
    #[cfg(feature = "mimalloc")]
    // SAFETY: mi_collect may be called from any thread at any time.
    unsafe {
        ffi::mi_collect(true)
    }
}
