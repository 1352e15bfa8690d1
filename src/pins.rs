//! Per-block reader pins of one process, and the claim that keeps the writer off pinned blocks.
//!
//! Each block has one 32-bit word: the low bits count the readers using the block, the top bit
//! says the writer is taking it for a new use. A reader pins with `fetch_add`; if it finds the
//! top bit set it backs off and treats the block as gone. The writer claims a block with a
//! compare-exchange from exactly 0, so it never takes a block a reader holds and never waits:
//! a pinned block is skipped.

#[cfg(loom)]
use loom::sync::atomic::{AtomicU32, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU32, Ordering};

const CLAIMED: u32 = 1 << 31;

pub struct PinTable {
    words: Box<[AtomicU32]>,
}

impl PinTable {
    pub fn new(blocks: usize) -> PinTable {
        PinTable {
            words: (0..blocks).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Pins `block` for reading. `false` means the writer is reusing it right now.
    pub fn pin(&self, block: u64) -> bool {
        let Some(word) = self.words.get(block as usize) else {
            return false;
        };
        let previous = word.fetch_add(1, Ordering::AcqRel);
        if previous & CLAIMED != 0 {
            word.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    pub fn unpin(&self, block: u64) {
        if let Some(word) = self.words.get(block as usize) {
            word.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Claims `block` for reuse if no reader holds it.
    pub fn try_claim(&self, block: u64) -> bool {
        self.words.get(block as usize).is_some_and(|word| {
            word.compare_exchange(0, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        })
    }

    /// Ends a claim once the block's new use is visible (its new header written).
    pub fn release_claim(&self, block: u64) {
        if let Some(word) = self.words.get(block as usize) {
            // fetch_and, not store: readers that bounced off the claim may still be undoing
            // their increment.
            word.fetch_and(!CLAIMED, Ordering::AcqRel);
        }
    }

    #[cfg(all(test, not(loom)))]
    pub fn readers(&self, block: u64) -> u32 {
        self.words[block as usize].load(Ordering::Acquire) & !CLAIMED
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn claim_skips_pinned_blocks_and_pins_bounce_off_claims() {
        let pins = PinTable::new(2);
        assert!(pins.pin(0));
        assert!(!pins.try_claim(0), "a pinned block must not be claimed");
        pins.unpin(0);
        assert!(pins.try_claim(0));
        assert!(!pins.pin(0), "a claimed block must not be pinned");
        assert_eq!(pins.readers(0), 0);
        pins.release_claim(0);
        assert!(pins.pin(0));
        assert_eq!(pins.readers(0), 1);
        assert!(!pins.pin(5), "out-of-range blocks are never pinned");
    }
}

/// Model check of publish + pin + reclaim: a writer publishes a frame into a block, then
/// reclaims the block for a new generation; a reader pins, checks the generation, reads the
/// frame. Whatever the interleaving, the reader never sees a value from the new use while it
/// believes it is reading the old one. Run with `RUSTFLAGS="--cfg loom" cargo test --release --lib pins`.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicU64;
    use loom::thread;

    struct Block {
        generation: AtomicU64,
        commit: AtomicU32,
        payload: loom::cell::UnsafeCell<u64>,
    }

    #[test]
    fn readers_never_see_a_reclaimed_blocks_new_bytes() {
        loom::model(|| {
            let pins = Arc::new(PinTable::new(1));
            let block = Arc::new(Block {
                generation: AtomicU64::new(1),
                commit: AtomicU32::new(0),
                payload: loom::cell::UnsafeCell::new(0),
            });
            // Writer: publish generation 1's frame, then try to reclaim for generation 2.
            let (wp, wb) = (pins.clone(), block.clone());
            let writer = thread::spawn(move || {
                // SAFETY: loom checks this access for races; that is the point of the model.
                wb.payload.with_mut(|p| unsafe { *p = 100 });
                wb.commit.store(1, Ordering::Release);
                if wp.try_claim(0) {
                    wb.commit.store(0, Ordering::Release);
                    wb.generation.store(2, Ordering::Release);
                    // SAFETY: as above.
                    wb.payload.with_mut(|p| unsafe { *p = 200 });
                    wb.commit.store(1, Ordering::Release);
                    wp.release_claim(0);
                }
            });
            // Reader: expects generation 1.
            if pins.pin(0) {
                if block.generation.load(Ordering::Acquire) == 1
                    && block.commit.load(Ordering::Acquire) == 1
                {
                    // SAFETY: as above.
                    let v = block.payload.with(|p| unsafe { *p });
                    assert_eq!(v, 100, "pinned reader saw the new use's bytes");
                }
                pins.unpin(0);
            }
            writer.join().unwrap();
        });
    }
}
