package dev.cfn.store;

import static dev.cfn.store.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.JournalException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockTest {
  @TempDir Path dir;

  @Test
  void aSecondOpenInTheSameProcessIsRefusedUntilTheFirstCloses() throws Exception {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal first = SqliteJournal.builder(file).open()) {
      assertThatThrownBy(() -> SqliteJournal.builder(file).open())
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("in use");
      // the refused open must not have dropped the first one's lock (POSIX locks would)
      assertThat(LockHolderProcess.tryOpen(file))
          .startsWith("REFUSED")
          .contains("in use by another process");
      first.append(message(1, "still mine"));
    }
    try (SqliteJournal again = SqliteJournal.builder(file).open()) {
      assertThat(again.recover()).hasSize(1);
    }
  }

  @Test
  void anotherProcessIsRefusedAndTheLockDiesWithItsOwner() throws Exception {
    Path file = dir.resolve("journal.db");
    Process child = LockHolderProcess.start(file);
    try {
      assertThat(LockHolderProcess.firstLine(child)).isEqualTo("OPEN");
      assertThatThrownBy(() -> SqliteJournal.builder(file).open())
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("is in use by another process (pid " + child.pid() + ")")
          .hasMessageContaining("stop it or use another file");
    } finally {
      child.destroyForcibly(); // a crash: the OS releases the lock
      child.waitFor();
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "mine now"));
    }
  }
}
