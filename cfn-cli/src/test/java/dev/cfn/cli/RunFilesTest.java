package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RunFiles#journalInUse}: it reads the kernel's table of locks and never takes the journal's
 * lock itself, so a process starting on the journal while {@code cfn task status} looks is never
 * refused because of the look.
 */
class RunFilesTest {
  @TempDir Path dir;

  @Test
  void aJournalOpenInThisProcessIsInUseAndTheLookLeavesItsLockInPlace() throws Exception {
    Path db = dir.resolve("cfn.db");
    try (SqliteJournal journal = SqliteJournal.builder(db).open()) {
      assertThat(RunFiles.journalInUse(db)).contains(true);
      assertThat(RunFiles.journalInUse(db)).as("looked twice: still held").contains(true);
      if (Files.isReadable(Path.of("/proc/locks"))) {
        assertThat(RunFiles.lockedInKernelTable(lockOf(db), Path.of("/proc/locks")))
            .as("the kernel still lists the lock after the looks")
            .contains(true);
      }
    }
    assertThat(RunFiles.journalInUse(db)).contains(false);
  }

  @Test
  void theKernelTableIsMatchedByDeviceAndInode() throws Exception {
    Path file = Files.writeString(dir.resolve("x.lock"), "1\n");
    long inode = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
    long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
    long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    String device = String.format("%02x:%02x", major, minor);
    Path table = dir.resolve("locks");

    Files.writeString(
        table,
        "1: FLOCK  ADVISORY  WRITE 25876 fe:00:2154511 0 EOF\n"
            + "2: POSIX  ADVISORY  WRITE 3811 "
            + device
            + ":"
            + inode
            + " 0 EOF\n");
    assertThat(RunFiles.lockedInKernelTable(file, table)).contains(true);

    Files.writeString(
        table,
        "1: POSIX  ADVISORY  WRITE 3811 "
            + device
            + ":"
            + (inode + 1)
            + " 0 EOF\n"
            + "2: -> POSIX  ADVISORY  WRITE 77 "
            + device
            + ":"
            + inode
            + " 0 EOF\n");
    assertThat(RunFiles.lockedInKernelTable(file, table))
        .as("another inode, and a process only waiting for this one")
        .contains(false);

    assertThat(RunFiles.lockedInKernelTable(file, dir.resolve("no-such-table")))
        .isEqualTo(Optional.empty());
  }

  private static Path lockOf(Path db) throws Exception {
    Path real = db.toRealPath();
    return real.resolveSibling(real.getFileName() + ".lock");
  }
}
