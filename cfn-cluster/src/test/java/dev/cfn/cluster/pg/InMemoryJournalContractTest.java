package dev.cfn.cluster.pg;

import dev.cfn.core.InMemoryJournal;
import dev.cfn.core.spi.Journal;

/** The journal contract on cfn-core's {@link InMemoryJournal}: "reopen" is the same instance. */
class InMemoryJournalContractTest extends JournalContractTest {
  private InMemoryJournal current;

  @Override
  Journal openFresh() {
    current = new InMemoryJournal();
    return current;
  }

  @Override
  Journal reopen() {
    return current; // close() keeps the contents, as after a restart of the runtime
  }
}
