package dev.cfn.cluster.pg;

import dev.cfn.core.spi.Journal;

/** The journal contract on {@link PgJournal}, reopened on the same schema of its own. */
class PgJournalContractTest extends JournalContractTest {
  private String url;

  @Override
  Journal openFresh() {
    url = PgServer.shared().newSchema("contract");
    return reopen();
  }

  @Override
  Journal reopen() {
    return PgJournal.builder(url).open();
  }
}
