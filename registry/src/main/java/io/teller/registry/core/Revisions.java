package io.teller.registry.core;

import io.teller.registry.store.RegistryStore;

/**
 * The revisions one batch of writes hands out, taken from the cluster's counter a block at a time
 * (one compare-and-set per block instead of one per change). What the batch did not use is given
 * back at its end, so that revisions normally have no gaps; revisions stay unique and increasing
 * even if two nodes briefly both lead, since every block is reserved atomically above the last.
 *
 * <p>Confined to the writer's ordered task; not thread-safe.
 */
final class Revisions {

  private final RegistryStore store;
  private int blockSize = 1;
  private long next = 1;
  private long last; // the block's last revision; below next: no block held

  Revisions(RegistryStore store) {
    this.store = store;
  }

  /** Starts a batch of {@code commands} writes: the first block will hold two revisions each. */
  void open(int commands) {
    blockSize = Math.max(4, 2 * commands);
  }

  /** The next revision, above every one handed out before, here or by any other node. */
  long next() {
    if (next > last) {
      next = store.reserveRevisions(0, blockSize);
      last = next + blockSize - 1;
    }
    return next++;
  }

  /**
   * Gives back what is left of the block; the next revision then comes from a new block. Call at
   * the end of a batch, and before reserving revisions from the store directly.
   */
  void release() {
    if (next <= last) {
      store.returnRevisions(last, next - 1);
    }
    next = 1;
    last = 0;
  }
}
