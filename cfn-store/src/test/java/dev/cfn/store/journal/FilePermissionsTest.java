package dev.cfn.store.journal;

import static dev.cfn.store.journal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.memory.MemoryFixtures;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Store files are created readable by their owner only, whatever the umask lets through. */
class FilePermissionsTest {
  @TempDir Path dir;

  @BeforeEach
  void posixOnly() {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
  }

  @Test
  void theJournalItsCompanionsItsLockAndItsBackupsAreOwnerOnly() throws Exception {
    Path file = dir.resolve("new").resolve("deeper").resolve("journal.db");
    Path backups = dir.resolve("backups").resolve("nested");
    try (SqliteJournal journal = SqliteJournal.builder(file).open()) {
      journal.append(message(1, "private"));
      assertThat(mode(file.resolveSibling("journal.db-wal"))).isEqualTo("rw-------");
      assertThat(mode(file.resolveSibling("journal.db-shm"))).isEqualTo("rw-------");
      journal.backupTo(backups.resolve("b.db"));
    }
    assertThat(mode(file)).isEqualTo("rw-------");
    assertThat(mode(file.resolveSibling("journal.db.lock"))).isEqualTo("rw-------");
    assertThat(mode(file.getParent())).isEqualTo("rwx------");
    assertThat(mode(file.getParent().getParent())).isEqualTo("rwx------");
    assertThat(mode(backups)).isEqualTo("rwx------");
    assertThat(mode(backups.resolve("b.db"))).isEqualTo("rw-------");
    Path restored = dir.resolve("restored").resolve("journal.db");
    JournalFiles.restore(backups.resolve("b.db"), restored);
    assertThat(mode(restored)).isEqualTo("rw-------");
    assertThat(mode(restored.getParent())).isEqualTo("rwx------");
  }

  @Test
  void memoryFilesAndCallLogsAreOwnerOnly() throws Exception {
    Path memory = dir.resolve(".cfn").resolve("memory.db");
    Path calls = dir.resolve("logs").resolve("calls.db");
    try (SqliteMemoryStore store = SqliteMemoryStore.open(memory)) {
      store.put(MemoryFixtures.ALICE, "notes", "k", "private words");
    }
    try (SqliteCallLogStore log = SqliteCallLogStore.open(calls)) {
      assertThat(log.file()).isEqualTo(calls.toAbsolutePath());
    }
    for (Path p : List.of(memory, calls)) {
      assertThat(mode(p)).as(p.toString()).isEqualTo("rw-------");
      assertThat(mode(p.getParent())).as(p.getParent().toString()).isEqualTo("rwx------");
    }
  }

  @Test
  void anExistingDirectoryKeepsTheModeItsOwnerChose() throws Exception {
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (SqliteJournal journal = SqliteJournal.builder(shared.resolve("j.db")).open()) {
      journal.append(message(1, "x"));
    }
    assertThat(mode(shared)).isEqualTo("rwxr-xr-x");
    assertThat(mode(shared.resolve("j.db"))).isEqualTo("rw-------");
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
