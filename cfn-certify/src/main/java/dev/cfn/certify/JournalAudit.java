package dev.cfn.certify;

import dev.cfn.core.spi.Journal;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a crash node's journal after its last run and counts, per chain, the items handled exactly
 * once, the duplicates and the losses.
 *
 * @param expected items that should have been handled
 * @param exactlyOnce items whose count is exactly 1
 * @param lost items with no count at all
 * @param duplicated extra handlings (a count of 3 is 2 duplicates)
 * @param pending messages still unacknowledged in the journal
 * @param deadLetters messages moved to the dead-letter store
 */
record JournalAudit(
    long expected, long exactlyOnce, long lost, long duplicated, long pending, long deadLetters) {

  /**
   * Audits {@code db}; each chain should have items 1 to {@code perChain}, or to the highest item
   * found when {@code perChain} is 0 (a run without an end).
   */
  static JournalAudit of(Path db, int chains, long perChain) {
    try (SqliteJournal journal =
        SqliteJournal.builder(db).payloadType(CrashNode.Tick.class, CrashNode.Item.class).open()) {
      List<Journal.JournalEntry> pending = journal.recover();
      long expected = 0;
      long once = 0;
      long lost = 0;
      long duplicated = 0;
      for (int c = 0; c < chains; c++) {
        String ns = "consumer/" + c;
        Map<Long, Long> counts = new HashMap<>();
        long max = 0;
        for (String key : journal.stateKeys(ns)) {
          long n = Long.parseLong(key);
          counts.put(n, Long.parseLong(journal.state(ns, key).orElse("0")));
          max = Math.max(max, n);
        }
        long want = perChain > 0 ? perChain : max;
        expected += want;
        for (long n = 1; n <= want; n++) {
          long count = counts.getOrDefault(n, 0L);
          if (count == 0) {
            lost++;
          } else if (count == 1) {
            once++;
          } else {
            duplicated += count - 1;
          }
        }
      }
      return new JournalAudit(
          expected,
          once,
          lost,
          duplicated,
          pending.size(),
          journal.deadLetterQueue().list().size());
    }
  }

  Map<String, Object> asMap() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("expected", expected);
    m.put("exactlyOnce", exactlyOnce);
    m.put("lost", lost);
    m.put("duplicated", duplicated);
    m.put("pendingAtEnd", pending);
    m.put("deadLetters", deadLetters);
    return m;
  }
}
