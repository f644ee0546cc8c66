package dev.cfn.store.journal;

import java.nio.file.Path;

/**
 * Run in a child JVM by {@link LockTest}: opens the journal given as argument, prints {@code OPEN}
 * and waits for its standard input to close; or prints {@code REFUSED <message>}.
 */
public final class LockHolder {
  private LockHolder() {}

  @SuppressWarnings("try") // the journal is held open, not used
  public static void main(String[] args) throws Exception {
    try (SqliteJournal journal = SqliteJournal.builder(Path.of(args[0])).open()) {
      System.out.println("OPEN");
      System.out.flush();
      while (System.in.read() >= 0) {
        // hold the journal until the parent closes our input or kills us
      }
    } catch (dev.cfn.core.spi.JournalException e) {
      System.out.println("REFUSED " + e.getMessage());
    }
  }
}
