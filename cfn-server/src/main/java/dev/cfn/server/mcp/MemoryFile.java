package dev.cfn.server.mcp;

import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The server's memory store, opened on first use: a read before anything was written finds no file
 * and creates none, so that a server only ever asked to read leaves the folder as it was. Opened
 * once, shared by every call (the store is thread-safe), closed with the server.
 */
final class MemoryFile implements AutoCloseable {
  private final Path file;
  private SqliteMemoryStore store;
  private boolean closed;

  MemoryFile(Path file) {
    this.file = file;
  }

  Path path() {
    return file;
  }

  /** The store, opened (and the file created) when needed. */
  synchronized SqliteMemoryStore open() {
    if (closed) {
      throw new ToolFailure("the server is stopping; the memory file is closed");
    }
    if (store == null) {
      store = SqliteMemoryStore.open(file);
    }
    return store;
  }

  /** The store when the file exists (opening it), empty when nothing was ever written. */
  synchronized Optional<SqliteMemoryStore> ifExists() {
    if (store == null && !Files.exists(file)) {
      return Optional.empty();
    }
    return Optional.of(open());
  }

  /** True when the store is open in this server. */
  synchronized boolean isOpen() {
    return store != null;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (store != null) {
      store.close();
      store = null;
    }
  }
}
