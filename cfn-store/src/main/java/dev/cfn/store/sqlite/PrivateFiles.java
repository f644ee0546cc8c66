package dev.cfn.store.sqlite;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates cfn's store files readable by their owner only: files {@code 0600} ({@code rw-------}),
 * directories {@code 0700}.
 *
 * <p>A journal, memory file or call log holds agents' messages, state and private memory, so no
 * other user of the machine may read it. SQLite creates a database with mode {@code 0666} minus the
 * umask (0644 with the usual umask 022), but it gives the {@code -wal} and {@code -shm} files it
 * creates later the mode of the database file; so cfn creates the database file itself, empty and
 * {@code 0600}, before SQLite opens it (SQLite treats an empty file as a new database), and its
 * companions follow. The mode is given at creation ({@code open(2)} with the mode, never a {@code
 * chmod} after), so there is no moment at which the file is readable by others. Files and
 * directories that exist already are left as they are: cfn does not change modes the user chose.
 *
 * <p>On a file system without POSIX permissions (Windows), files and directories are created with
 * the platform's defaults.
 */
public final class PrivateFiles {
  /** {@code rw-------}. */
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  /** {@code rwx------}. */
  public static final Set<PosixFilePermission> DIRECTORY =
      PosixFilePermissions.fromString("rwx------");

  private static final boolean POSIX =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private PrivateFiles() {}

  /**
   * The folder that holds {@code file} (made absolute first), or a clear error for a path that has
   * none, such as {@code /}.
   */
  public static Path parentOf(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    if (parent == null) {
      throw new IllegalArgumentException(
          file + " is not a file path (fix: name a file, such as .cfn/cfn.db)");
    }
    return parent;
  }

  /**
   * The last name of {@code file}, or a clear error for a path that has none, such as {@code /}.
   */
  public static String nameOf(Path file) {
    Path name = file.getFileName();
    if (name == null) {
      throw new IllegalArgumentException(
          file + " is not a file path (fix: name a file, such as .cfn/cfn.db)");
    }
    return name.toString();
  }

  /** Creates {@code dir} and its missing parents, each {@code 0700}; existing ones are kept. */
  public static void createDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    if (POSIX) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIRECTORY));
    } else {
      Files.createDirectories(dir);
    }
  }

  /**
   * Creates {@code file}, empty and {@code 0600}, unless it exists; returns true when it created
   * it.
   */
  public static boolean createFileIfMissing(Path file) throws IOException {
    if (Files.exists(file)) {
      return false;
    }
    try {
      Files.createFile(file, fileAttributes());
      return true;
    } catch (FileAlreadyExistsException e) {
      return false; // created meanwhile by someone else: theirs
    }
  }

  /** The attributes that create a file {@code 0600} (none where there are no POSIX modes). */
  public static FileAttribute<?>[] fileAttributes() {
    return POSIX
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)}
        : new FileAttribute<?>[0];
  }

  /**
   * Replaces {@code file} with {@code bytes} so that a reader (or a crash) sees either the whole
   * old content or the whole new one: written to a {@code 0600} temporary file beside it, forced to
   * disk, renamed over it atomically, and the folder forced so that the rename itself is durable.
   */
  public static void writeAtomically(Path file, byte[] bytes) throws IOException {
    Path folder = parentOf(file);
    createDirectories(folder);
    Path tmp = folder.resolve("." + nameOf(file) + ".tmp");
    Files.deleteIfExists(tmp);
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            fileAttributes())) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    forceFolder(folder);
  }

  /**
   * Forces {@code folder}'s entries to disk (so a file created or renamed in it survives a crash);
   * a no-op where folders cannot be opened (Windows).
   */
  public static void forceFolder(Path folder) throws IOException {
    if (!POSIX) {
      return;
    }
    try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
