package dev.cfn.core;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Message ids and creation stamps, for the validate stage. Best-effort ids come in blocks of {@link
 * #BLOCK} per thread (a carrier keeps its block in its thread object, other threads in a
 * thread-local), so senders on different cores never contend on one counter per message; they are
 * unique within the runtime, not ordered. RELIABLE ids are taken one at a time (see {@link
 * #nextReliable()}).
 */
final class Ids {
  private static final long BLOCK = 1024;
  private final AtomicLong ids = new AtomicLong();
  private final ThreadLocal<long[]> block = ThreadLocal.withInitial(() -> new long[2]);
  private final Carrier[] carriers;

  Ids(Carrier[] carriers) {
    this.carriers = carriers;
  }

  /** Makes every later id larger than {@code highest} (the journal's highest stored id). */
  void startAbove(long highest) {
    ids.updateAndGet(v -> Math.max(v, highest));
  }

  /**
   * The id of a RELIABLE message: one at a time from the shared counter, so that reliable ids
   * increase in the order they are taken across all threads. The journal keys its rows by id; ids
   * from per-thread blocks would scatter each group commit's rows over as many B-tree pages as
   * there are sending threads (measured: 300 pages written per commit of 134 messages with 256
   * senders). One contended increment is nothing beside the fsync a reliable send waits for.
   */
  long nextReliable() {
    return ids.incrementAndGet();
  }

  long next() {
    Carrier.CarrierThread ct = Carrier.current(carriers);
    if (ct != null) {
      if (ct.nextId == ct.idLimit) {
        ct.idLimit = ids.addAndGet(BLOCK) + 1;
        ct.nextId = ct.idLimit - BLOCK;
      }
      return ct.nextId++;
    }
    long[] b = block.get(); // {next, limit}
    if (b[0] == b[1]) {
      b[1] = ids.addAndGet(BLOCK) + 1;
      b[0] = b[1] - BLOCK;
    }
    return b[0]++;
  }

  /**
   * The creation time for a message sent now: the carrier's recent clock reading for a send from a
   * handler on a carrier (see {@link Carrier.CarrierThread#clock}), else {@link System#nanoTime()}.
   */
  long stamp(boolean internal) {
    if (internal) {
      Carrier.CarrierThread ct = Carrier.current(carriers);
      if (ct != null) {
        return ct.clock;
      }
    }
    return System.nanoTime();
  }
}
