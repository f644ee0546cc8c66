package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static dev.cfn.store.journal.Fixtures.richMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.StoreCheck;
import dev.cfn.store.crypto.KeyringException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flips every byte of a small journal, one at a time on a copy, and opens each copy: every public
 * read must give exactly the original answer, or the journal must refuse with a clear message.
 * Never a different answer (issue 10: flips inside the state index made {@code state} return empty
 * for a key that exists).
 *
 * <p>The journal is created with 512-byte pages (the smallest SQLite allows) so that it has few
 * bytes and yet multi-level b-trees (interior pages, child pointers, divider keys) in the state
 * table, its index and the messages; its structure is otherwise that of any journal. Pages on the
 * free list are skipped: they are proved free by walking the list; so is the space inside a page
 * that its header shows no cell uses (all but every 16th byte of it). Each byte is flipped with XOR
 * 0xFF (every bit), and the first 64 bytes of each page (page headers, cell counts, cell and child
 * pointers) also with XOR 0x01 (the lowest bit, which turns a cell count into one less).
 */
class ByteFlipTest {
  private static final int PAGE_SIZE = 512;
  private static final List<String> NAMESPACES = List.of("counter/1", "counter/2", "absent/9");

  @TempDir Path dir;

  @Test
  void noSingleFlippedByteGivesADifferentAnswer() throws Exception {
    Path original = dir.resolve("journal.db");
    build(original);
    String expected;
    try (SqliteJournal journal = SqliteJournal.builder(original).open()) {
      expected = answers(journal);
      assertThat(journal.check().ok()).isTrue();
    }
    assertThat(JournalFiles.check(original).ok()).isTrue();
    byte[] bytes = Files.readAllBytes(original);
    // everything is in the main file: a reader may leave an empty log behind
    assertThat(Files.size(original.resolveSibling("journal.db-wal"))).isZero();
    BitSet free = freePages(bytes);
    int pages = bytes.length / PAGE_SIZE;
    assertThat(pages).as("pages").isBetween(8, 60);

    BitSet unallocated = unallocatedBytes(bytes, free);
    List<int[]> flips = new ArrayList<>();
    for (int offset = 0; offset < bytes.length; offset++) {
      if (unallocated.get(offset) && offset % 16 != 0) {
        continue; // space no cell uses, by its page's header: every 16th byte is still flipped
      }
      if (!free.get(offset / PAGE_SIZE + 1)) {
        flips.add(new int[] {offset, 0xFF});
        if (offset % PAGE_SIZE < 64) { // page headers, cell counts, pointers: one less
          flips.add(new int[] {offset, 0x01});
        }
      }
    }
    System.out.printf("byte flips: %d to try%n", flips.size());
    ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger same = new AtomicInteger();
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 2; w++) {
      Path copy = dir.resolve("copy-" + w).resolve("journal.db");
      Files.createDirectories(copy.getParent());
      workers.add(
          pool.submit(
              () -> {
                for (int i = next.getAndIncrement(); i < flips.size(); i = next.getAndIncrement()) {
                  int[] flip = flips.get(i);
                  String outcome = tryCopy(bytes, flip[0], (byte) flip[1], copy, expected);
                  switch (outcome) {
                    case "same" -> same.incrementAndGet();
                    case "refused" -> refused.incrementAndGet();
                    default ->
                        wrong.add(
                            "offset "
                                + flip[0]
                                + " (page "
                                + (flip[0] / PAGE_SIZE + 1)
                                + ") xor "
                                + Integer.toHexString(flip[1])
                                + ": "
                                + outcome);
                  }
                }
                return null;
              }));
    }
    for (Future<?> worker : workers) {
      worker.get();
    }
    pool.shutdown();
    System.out.printf(
        "byte flips: %d pages (%d free), %d flips: %d same answer, %d refused, %d wrong%n",
        pages, free.cardinality(), flips.size(), same.get(), refused.get(), wrong.size());
    assertThat(wrong).as("flips that gave a different answer or an unclear error").isEmpty();
    assertThat(refused.get()).isPositive();
  }

  /** Writes the flipped copy, checks it statically, opens it and compares every read. */
  private static String tryCopy(byte[] bytes, int offset, byte mask, Path copy, String expected) {
    try {
      for (String suffix : List.of("", "-wal", "-shm")) {
        Files.deleteIfExists(copy.resolveSibling(copy.getFileName() + suffix));
      }
      byte[] flipped = bytes.clone();
      flipped[offset] ^= mask;
      Files.write(copy, flipped);
      StoreCheck staticCheck;
      try {
        staticCheck = JournalFiles.check(copy);
      } catch (JournalException e) {
        staticCheck = null;
        String unclear = unclear(e);
        if (unclear != null) {
          return "static check: " + unclear;
        }
      }
      if (staticCheck != null && !staticCheck.ok() && staticCheck.problems().isEmpty()) {
        return "static check: not ok without problems";
      }
      String got;
      try (SqliteJournal journal = SqliteJournal.builder(copy).open()) {
        got = answers(journal);
        if (journal.quarantinedCount() > 0) {
          // recovery set a damaged pending record aside: detected, if the static check saw it too
          return staticCheck == null || !staticCheck.ok()
              ? "refused"
              : "quarantined a record the static check passed";
        }
      } catch (JournalException | KeyringException e) {
        // KeyringException: a flip in the header's user_version, the file's encryption mark
        String unclear = unclear(e);
        return unclear == null ? "refused" : unclear;
      }
      if (got.equals(expected)) {
        return "same";
      }
      return "DIFFERENT ANSWER"
          + (staticCheck != null && staticCheck.ok() ? " (and the static check said ok)" : "")
          + ": "
          + firstDifference(expected, got);
    } catch (Exception | Error e) {
      return "unexpected " + e;
    }
  }

  /** Null when {@code e}'s message is clear; otherwise what is wrong with it. */
  private static String unclear(RuntimeException e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      return "refused without a message";
    }
    if (m.contains("[B@")) {
      return "a byte array in the message: " + m;
    }
    return null;
  }

  private static String firstDifference(String a, String b) {
    int i = 0;
    while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
      i++;
    }
    int from = Math.max(0, i - 60);
    return "expected ..."
        + a.substring(from, Math.min(a.length(), i + 60))
        + "... got ..."
        + b.substring(from, Math.min(b.length(), i + 60))
        + "...";
  }

  /** Every public read of the journal, as one string. */
  private static String answers(SqliteJournal journal) {
    StringBuilder out = new StringBuilder();
    out.append("recover ").append(journal.recover()).append('\n');
    out.append("highest ").append(journal.highestId()).append('\n');
    for (long id = 1; id <= 32; id++) {
      out.append(journal.isAcknowledged(id) ? 'A' : '-');
    }
    out.append('\n');
    for (DeadLetterRecord dead : journal.deadLetterQueue().list()) {
      out.append("dead ").append(dead).append('\n');
    }
    out.append("dead 50 ").append(journal.deadLetterQueue().find(50)).append('\n');
    for (String ns : NAMESPACES) {
      List<String> keys = journal.stateKeys(ns);
      out.append("keys ").append(ns).append(' ').append(keys).append('\n');
      for (int k = 0; k < 25; k++) {
        out.append(journal.state(ns, "seen/" + k).orElse("<none>")).append(',');
      }
      out.append('\n');
    }
    return out.toString();
  }

  /** A small journal with pending messages, acknowledgements, dead letters and state. */
  private static void build(Path file) throws Exception {
    try (Connection raw = Fixtures.raw(file);
        Statement sql = raw.createStatement()) {
      sql.execute("PRAGMA page_size = " + PAGE_SIZE);
      sql.execute("PRAGMA journal_mode = WAL"); // writes the header with this page size
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      for (long id = 1; id <= 30; id++) {
        Envelope m = id % 7 == 0 ? richMessage(id, "rich " + id) : message(id, "task " + id);
        journal.append(m);
        if (id <= 22) {
          List<Effect> effects = new ArrayList<>();
          effects.add(new Effect.Put("counter/" + (id % 2 + 1), "seen/" + id, "v" + id));
          if (id % 5 == 0) {
            effects.add(new Effect.Delete("counter/" + (id % 2 + 1), "seen/" + (id - 2)));
          }
          journal.acknowledge(m, effects).join();
        } else if (id <= 25) {
          journal.recordFailure(m, 1, "first failure of " + id).join();
          journal.recordFailure(m, 2, "second failure of " + id).join();
          journal.deadLetter(m, 2, "gave up on " + id).join();
        } else if (id == 27) {
          journal.recordFailure(m, 1, "pending failure").join();
        }
      }
      journal.deadLetterQueue().remove(25); // records a retired high id in meta
    }
    try (Connection raw = Fixtures.raw(file);
        Statement sql = raw.createStatement()) {
      sql.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    Files.deleteIfExists(file.resolveSibling(file.getFileName() + "-wal"));
    Files.deleteIfExists(file.resolveSibling(file.getFileName() + "-shm"));
  }

  /**
   * The bytes of b-tree pages that no cell uses, as the page header says: between the end of the
   * cell pointer array and the start of the cell content area, and the free blocks in that area.
   * SQLite never reads them to answer a query (integrity_check only adds up their sizes).
   */
  private static BitSet unallocatedBytes(byte[] bytes, BitSet freePages) {
    ByteBuffer db = ByteBuffer.wrap(bytes);
    BitSet unused = new BitSet();
    for (int page = 1; page <= bytes.length / PAGE_SIZE; page++) {
      if (freePages.get(page)) {
        continue;
      }
      int base = (page - 1) * PAGE_SIZE;
      int header = page == 1 ? base + 100 : base;
      int type = bytes[header];
      if (type != 2 && type != 5 && type != 10 && type != 13) {
        continue; // not a b-tree page (overflow, ...): every byte counts
      }
      int cells = db.getShort(header + 3) & 0xffff;
      int content = db.getShort(header + 5) & 0xffff;
      int pointers = header + (type == 2 || type == 5 ? 12 : 8) + 2 * cells;
      unused.set(pointers, base + (content == 0 ? 65536 : content));
      for (int block = db.getShort(header + 1) & 0xffff; block != 0; ) {
        int size = db.getShort(base + block + 2) & 0xffff;
        unused.set(base + block + 4, base + block + size); // its 4-byte link and size are used
        block = db.getShort(base + block) & 0xffff;
      }
    }
    return unused;
  }

  /** The pages on the free list (1-based), found by walking its trunk pages. */
  private static BitSet freePages(byte[] bytes) {
    ByteBuffer db = ByteBuffer.wrap(bytes);
    assertThat(db.getShort(16) & 0xffff).isEqualTo(PAGE_SIZE);
    BitSet free = new BitSet();
    long trunk = db.getInt(32) & 0xffffffffL;
    while (trunk != 0) {
      int base = (int) (trunk - 1) * PAGE_SIZE;
      free.set((int) trunk);
      int leaves = db.getInt(base + 4);
      for (int i = 0; i < leaves; i++) {
        free.set(db.getInt(base + 8 + 4 * i));
      }
      trunk = db.getInt(base) & 0xffffffffL;
    }
    assertThat(free.cardinality()).isEqualTo(db.getInt(36));
    return free;
  }
}
