package dev.cfn.store.journal;

import dev.cfn.core.spi.JournalException;
import dev.cfn.store.sqlite.PrivateFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exclusive lock on {@code <journal>.lock} that makes one process at a time the owner of a
 * journal, and so the holder of the lease on every message in flight in it.
 *
 * <p>The lock is an OS file lock ({@link FileChannel#tryLock()}): the operating system releases it
 * when the process exits or dies, however it dies, so a crashed owner never blocks the next one and
 * there is no lease to expire. The file stays on disk after {@link #close()} (deleting it would let
 * two processes lock two different files); it holds the owner's pid for error messages. File locks
 * are advisory and unreliable on network file systems: keep journals on a local disk.
 *
 * <p>On Linux these are POSIX locks, which belong to the process and are dropped when <em>any</em>
 * descriptor of the file is closed, even one that never held the lock. So a second open in the same
 * JVM must not touch the file: {@link #HELD} records the lock files this JVM holds and refuses
 * before opening a channel. This set is the one piece of static state in cfn-store; it mirrors the
 * per-process lock table of the OS.
 */
final class LockFile implements AutoCloseable {
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  /** The files (device and inode) of the journals this JVM holds; see {@link #acquire}. */
  private static final Set<Object> HELD_FILES = ConcurrentHashMap.newKeySet();

  private final Path path;
  private final FileChannel channel;
  private final FileLock lock;
  private final Object fileKey; // the journal's device and inode; null when unknown

  private LockFile(Path path, FileChannel channel, FileLock lock, Object fileKey) {
    this.path = path;
    this.channel = channel;
    this.lock = lock;
    this.fileKey = fileKey;
  }

  /**
   * Locks the sibling lock file of {@code journal} or throws {@link JournalException}.
   *
   * <p>One journal must never be open under two names, or two owners would each keep a write-ahead
   * log of their own for the one file and corrupt it. Symbolic links are resolved ({@link
   * #lockPath}); two names of one directory (a bind mount) lead to one lock file, as it lies in
   * that directory; a hard link is a second name the lock cannot see, so a journal with more than
   * one link is refused ({@link #requireOneName}); and within this JVM the journal's device and
   * inode are held too, so no alias whatever opens it twice here. A hard link made after the
   * journal was opened is refused at the next open.
   */
  static LockFile acquire(Path journal) {
    Path path = lockPath(journal);
    if (!HELD.add(path)) {
      throw new JournalException(
          journal
              + " is in use by another journal in this process; close it first or use another"
              + " file");
    }
    Object fileKey = null;
    FileChannel channel = null;
    try {
      fileKey = fileKey(journal);
      if (fileKey != null && !HELD_FILES.add(fileKey)) {
        fileKey = null; // not ours to release
        throw new JournalException(
            journal
                + " is in use by another journal in this process under another name (the same"
                + " file through a link or a bind mount); close it first or use another file");
      }
      requireOneName(journal);
      channel =
          FileChannel.open(
              path,
              Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
              PrivateFiles.fileAttributes());
      FileLock lock = tryLock(channel);
      if (lock == null) {
        String owner = owner(channel);
        throw new JournalException(
            journal
                + " is in use by another process"
                + owner
                + "; stop it or use another file (the lock is "
                + path
                + ")");
      }
      channel.truncate(0);
      channel.write(
          ByteBuffer.wrap(
              (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
          0);
      channel.force(false);
      return new LockFile(path, channel, lock, fileKey);
    } catch (IOException e) {
      closeQuietly(channel);
      release(path, fileKey);
      throw new JournalException(
          "cannot lock " + path + " (" + e + "): check that its directory is writable", e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      release(path, fileKey);
      throw e;
    }
  }

  /**
   * Throws {@link JournalException} when {@code journal} exists and has more than one hard link:
   * another name of the same file would get a lock file (and a write-ahead log) of its own, so two
   * processes could write it at once. A missing file, or a file system without link counts, passes.
   */
  static void requireOneName(Path journal) {
    int links;
    try {
      links = (Integer) Files.getAttribute(journal, "unix:nlink");
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return; // no file yet, or no link counts here (not Linux/macOS)
    }
    if (links > 1) {
      throw new JournalException(
          journal
              + " has "
              + links
              + " hard links (names), so two processes could open it under two names, each with"
              + " a lock and a -wal file of its own, and corrupt it (fix: remove the other names,"
              + " found with `find / -xdev -samefile "
              + journal
              + "`, or give this journal a copy of its own)");
    }
  }

  /** The device and inode of {@code journal}; null when it does not exist (yet). */
  private static Object fileKey(Path journal) {
    try {
      return Files.readAttributes(journal, BasicFileAttributes.class).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  private static void release(Path path, Object fileKey) {
    if (fileKey != null) {
      HELD_FILES.remove(fileKey);
    }
    HELD.remove(path);
  }

  /**
   * The lock file beside the journal's real path, so that two names of one journal (symbolic links)
   * share one lock.
   */
  static Path lockPath(Path journal) {
    Path real = journal.toAbsolutePath().normalize();
    try {
      real =
          Files.exists(real)
              ? real.toRealPath()
              : PrivateFiles.parentOf(real).toRealPath().resolve(PrivateFiles.nameOf(real));
    } catch (IOException e) {
      // keep the normalized path; opening the channel reports the real problem
    }
    return real.resolveSibling(real.getFileName() + ".lock");
  }

  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  private static String owner(FileChannel channel) {
    try {
      ByteBuffer buffer = ByteBuffer.allocate(32);
      int read = channel.read(buffer, 0);
      String pid = read <= 0 ? "" : new String(buffer.array(), 0, read, StandardCharsets.US_ASCII);
      pid = pid.strip();
      return pid.matches("\\d+") ? " (pid " + pid + ")" : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing more to release
      }
    }
  }

  /** Releases the lock. */
  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException ignored) {
      // closing the channel below releases it too
    }
    closeQuietly(channel);
    release(path, fileKey);
  }
}
