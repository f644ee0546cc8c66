package dev.cfn.cluster.pg;

import dev.cfn.core.spi.Journal;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The journal contract on cfn-store's {@link SqliteJournal}, reopened on the same file. */
class SqliteJournalContractTest extends JournalContractTest {
  @TempDir Path dir;

  @Override
  Journal openFresh() {
    return reopen();
  }

  @Override
  Journal reopen() {
    return SqliteJournal.builder(dir.resolve("cfn.db")).open();
  }
}
