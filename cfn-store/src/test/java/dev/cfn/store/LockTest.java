package dev.cfn.store;

import static dev.cfn.store.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.JournalException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LockTest {
  @TempDir Path dir;

  @Test
  void aSecondOpenInTheSameProcessIsRefusedUntilTheFirstCloses() {
    Path file = dir.resolve("journal.db");
    try (SqliteJournal first = SqliteJournal.builder(file).open()) {
      assertThatThrownBy(() -> SqliteJournal.builder(file).open())
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("in use");
      // the refused open must not have dropped the first one's lock (POSIX locks would)
      assertThat(childTries(file)).startsWith("REFUSED").contains("in use by another process");
      first.append(message(1, "still mine"));
    }
    try (SqliteJournal again = SqliteJournal.builder(file).open()) {
      assertThat(again.recover()).hasSize(1);
    }
  }

  @Test
  void anotherProcessIsRefusedAndTheLockDiesWithItsOwner() throws Exception {
    Path file = dir.resolve("journal.db");
    Process child = start(file);
    try (BufferedReader out = reader(child)) {
      assertThat(out.readLine()).isEqualTo("OPEN");
      assertThatThrownBy(() -> SqliteJournal.builder(file).open())
          .isInstanceOf(JournalException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("is in use by another process (pid " + child.pid() + ")")
          .hasMessageContaining("stop it or use another file");
      child.destroyForcibly(); // a crash: the OS releases the lock
      child.waitFor();
    }
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "mine now"));
    }
  }

  private String childTries(Path file) {
    try {
      Process child = start(file);
      try (BufferedReader out = reader(child)) {
        String line = out.readLine();
        child.getOutputStream().close();
        child.waitFor();
        return String.valueOf(line);
      }
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static Process start(Path file) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(
            java,
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            LockHolder.class.getName(),
            file.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static BufferedReader reader(Process child) {
    return new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
  }
}
