package dev.cfn.store;

import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Path;

/**
 * The three stores of a node's {@code .cfn} folder opened together, as a node opens them: the
 * journal {@code cfn.db}, the memory {@code memory.db} and the call log {@code calls.db} (each with
 * the keyring of {@code .cfn/keys} when there is one). Closing closes all three.
 *
 * @param journal the journal
 * @param memory the memory store
 * @param calls the call log
 */
public record HomeStores(SqliteJournal journal, SqliteMemoryStore memory, SqliteCallLogStore calls)
    implements AutoCloseable {

  /** Opens the stores of {@code cfn} (a {@code .cfn} folder); on a failure none is left open. */
  public static HomeStores open(Path cfn) {
    SqliteJournal journal = SqliteJournal.builder(cfn.resolve("cfn.db")).open();
    SqliteMemoryStore memory = null;
    try {
      memory = SqliteMemoryStore.open(cfn.resolve("memory.db"));
      return new HomeStores(journal, memory, SqliteCallLogStore.open(cfn.resolve("calls.db")));
    } catch (RuntimeException e) {
      if (memory != null) {
        memory.close();
      }
      journal.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      calls.close();
    } finally {
      try {
        memory.close();
      } finally {
        journal.close();
      }
    }
  }
}
