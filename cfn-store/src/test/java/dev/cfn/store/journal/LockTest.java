package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.JournalException;
import dev.cfn.testkit.process.ChildJvm;
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
    try (ChildJvm child = LockHolderProcess.start(file)) {
      assertThat(LockHolderProcess.firstLine(child)).isEqualTo("OPEN");
      assertThatThrownBy(() -> SqliteJournal.builder(file).open())
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("is in use by another process (pid " + child.pid() + ")")
          .hasMessageContaining("stop it or use another file");
      assertThat(child.kill()).as("a crash: the OS releases the lock").isTrue();
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "mine now"));
    }
  }

  @Test
  void aJournalWithASecondHardLinkIsRefusedInThisAndAnotherProcess() throws Exception {
    Path file = dir.resolve("a").resolve("journal.db");
    Path link = dir.resolve("b").resolve("hardlink.db");
    try (SqliteJournal owner = SqliteJournal.builder(file).open()) {
      owner.append(message(1, "acknowledged data"));
      java.nio.file.Files.createDirectories(link.getParent());
      java.nio.file.Files.createLink(link, file); // the attack: a second name with its own lock
      // another process through the second name: its lock file differs, the link count does not
      assertThat(LockHolderProcess.tryOpen(link))
          .startsWith("REFUSED")
          .contains(link.toString())
          .contains("has 2 hard links")
          .contains("fix: remove the other names");
      // and this process, through either name
      assertThatThrownBy(() -> SqliteJournal.builder(link).open())
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("in use by another journal in this process under another name");
      owner.append(message(2, "still the only writer"));
    }
    assertThat(LockHolderProcess.tryOpen(file)).startsWith("REFUSED").contains("has 2 hard links");
    java.nio.file.Files.delete(link);
    try (SqliteJournal again = SqliteJournal.builder(file).open()) {
      assertThat(again.recover()).hasSize(2);
      assertThat(again.check().ok()).isTrue();
    }
  }

  @Test
  void aSymbolicLinkSharesTheLockOfItsTarget() throws Exception {
    Path file = dir.resolve("journal.db");
    Path alias = dir.resolve("alias.db");
    try (SqliteJournal owner = SqliteJournal.builder(file).open()) {
      java.nio.file.Files.createSymbolicLink(alias, file);
      assertThat(LockHolderProcess.tryOpen(alias))
          .startsWith("REFUSED")
          .contains("in use by another process");
    }
  }
}
