package dev.cfn.store.crypto;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.store.sqlite.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The files under {@code .cfn/keys/}: read only when private to their owner, written atomically
 * {@code 0600}, and changed under one lock ({@code keys.lock}: a file lock between processes, a
 * {@link ReentrantLock} between threads of this JVM, which a file lock does not order).
 */
final class KeyFiles {
  static final ObjectMapper JSON = new ObjectMapper();

  private static final boolean POSIX =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  private static final Set<PosixFilePermission> OTHERS =
      Set.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE);
  private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private KeyFiles() {}

  /** The bytes of a key file, refused when others may read or write it; null when missing. */
  static byte[] readPrivate(Path file) {
    try {
      if (POSIX) {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.stream().anyMatch(OTHERS::contains)) {
          throw new KeyringException(
              file
                  + " may be read or written by other users (mode "
                  + PosixFilePermissions.toString(perms)
                  + "); cfn does not use a key others could have read (fix: chmod 600 "
                  + file
                  + ", then cfn keys rotate, as the key may have been seen)");
        }
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new KeyringException(
          "cannot read " + file + ": " + e.getMessage() + " (fix: check its permissions)", e);
    }
  }

  /** A JSON key file, or null when missing; a damaged one is refused with the fix. */
  static ObjectNode readJson(Path file, String what) {
    byte[] bytes = readPrivate(file);
    if (bytes == null) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(bytes);
      if (node instanceof ObjectNode o && o.path("version").asInt() == 1) {
        return o;
      }
      throw damaged(file, what, "not a version 1 " + what, null);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw damaged(file, what, "not JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  static KeyringException damaged(Path file, String what, String problem, Throwable cause) {
    return new KeyringException(
        file
            + " is damaged ("
            + problem
            + "); nothing was changed (fix: restore the "
            + what
            + " from your backup of .cfn/keys: without it, records it protects cannot be read)",
        cause);
  }

  static void writeJson(Path file, ObjectNode node) {
    try {
      PrivateFiles.writeAtomically(
          file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Runs {@code action} holding the keyring's lock (threads and processes). */
  static <T> T locked(Path keysDir, IoAction<T> action) {
    Path lockFile = keysDir.toAbsolutePath().normalize().resolve("keys.lock");
    ReentrantLock jvm = LOCKS.computeIfAbsent(lockFile, p -> new ReentrantLock());
    jvm.lock();
    try {
      PrivateFiles.createDirectories(keysDir);
      try (FileChannel ch =
              FileChannel.open(
                  lockFile,
                  Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                  PrivateFiles.fileAttributes());
          FileLock ignored = ch.lock()) {
        return action.run();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot lock the keyring in " + keysDir + ": " + e.getMessage(), e);
    } finally {
      jvm.unlock();
    }
  }

  /** What {@link #locked} runs. */
  interface IoAction<T> {
    T run() throws IOException;
  }
}
