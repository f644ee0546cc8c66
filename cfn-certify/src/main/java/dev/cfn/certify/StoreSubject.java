package dev.cfn.certify;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.Priority;
import dev.cfn.core.spi.Journal;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One of cfn's stores as the integrity check drives it: open a file, write numbered records, read
 * them back, run the store's own check (SQLite's {@code integrity_check} and every record's
 * checksum). The honesty tests wrap one to break it on purpose.
 */
interface StoreSubject {
  /** The store's name in the report. */
  String name();

  /** Opens (or reopens) the store on {@code file}. */
  void open(Path file);

  /** Writes record {@code i} with {@code value}, durably before returning. */
  void write(int i, String value);

  /** Reads record {@code i} back, empty when it is missing. */
  Optional<String> read(int i);

  /** The store's own verification: each problem it found; empty when it found none. */
  List<String> check();

  /** Closes the store (its file stays). */
  void close();

  /** The three SQLite stores cfn ships. */
  static List<StoreSubject> sqlite() {
    return List.of(new JournalStore(), new MemoryStore(), new CallLogStore());
  }

  /** {@link SqliteJournal}: records are RELIABLE messages appended, then recovered. */
  final class JournalStore implements StoreSubject {
    private SqliteJournal journal;
    private Map<Long, Object> recovered;

    @Override
    public String name() {
      return "journal (SqliteJournal)";
    }

    @Override
    public void open(Path file) {
      journal = SqliteJournal.builder(file).open();
      recovered = null;
    }

    @Override
    public void write(int i, String value) {
      journal.append(
          new Envelope(
              i + 1L,
              "certify.record",
              AgentRuntime.EXTERNAL,
              AgentId.of("certify", "reader"),
              null,
              0,
              Priority.NORMAL,
              DeliveryMode.RELIABLE,
              Map.of(),
              value,
              System.nanoTime()));
    }

    @Override
    public Optional<String> read(int i) {
      if (recovered == null) {
        recovered = new HashMap<>();
        for (Journal.JournalEntry e : journal.recover()) {
          recovered.put(e.envelope().id(), e.envelope().payload());
        }
      }
      return Optional.ofNullable(recovered.get(i + 1L)).map(String::valueOf);
    }

    @Override
    public List<String> check() {
      return journal.check().problems();
    }

    @Override
    public void close() {
      if (journal != null) {
        journal.close();
        journal = null;
      }
    }
  }

  /** {@link SqliteMemoryStore}: records are entries of one namespace. */
  final class MemoryStore implements StoreSubject {
    private static final MemoryAccessor WHO = MemoryAccessor.operator();
    private SqliteMemoryStore store;

    @Override
    public String name() {
      return "memory (SqliteMemoryStore)";
    }

    @Override
    public void open(Path file) {
      store = SqliteMemoryStore.open(file);
    }

    @Override
    public void write(int i, String value) {
      store.put(WHO, "certify", "record-" + i, value);
    }

    @Override
    public Optional<String> read(int i) {
      return store.get(WHO, "certify", "record-" + i).map(MemoryEntry::value);
    }

    @Override
    public List<String> check() {
      return store.check().problems();
    }

    @Override
    public void close() {
      if (store != null) {
        store.close();
        store = null;
      }
    }
  }

  /** {@link SqliteCallLogStore}: records are call results under a key each. */
  final class CallLogStore implements StoreSubject {
    private SqliteCallLogStore store;

    @Override
    public String name() {
      return "call log (SqliteCallLogStore)";
    }

    @Override
    public void open(Path file) {
      store = SqliteCallLogStore.open(file);
    }

    @Override
    public void write(int i, String value) {
      store.record("record-" + i, "\"" + value + "\"");
    }

    @Override
    public Optional<String> read(int i) {
      return store
          .find("record-" + i)
          .map(json -> json.length() >= 2 ? json.substring(1, json.length() - 1) : json);
    }

    @Override
    public List<String> check() {
      return store.check().problems();
    }

    @Override
    public void close() {
      if (store != null) {
        store.close();
        store = null;
      }
    }
  }
}
