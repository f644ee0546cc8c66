package dev.cfn.store.calls;

import dev.cfn.store.sqlite.StoreConnection;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read connections of a {@link SqliteCallLogStore}, so that lookups never wait for the writer:
 * in WAL mode a reader sees the last commit while the writer appends the next. At most {@link
 * #size} connections are opened, lazily; a lookup borrows one (waiting when all are busy, which
 * lasts one indexed read), reads, and gives it back. A connection that failed is closed rather than
 * given back, and the next lookup opens a fresh one.
 */
final class CallLogReaders implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CallLogReaders.class);
  private static final String SELECT = "SELECT result, recorded_at, crc FROM calls WHERE key = ?";

  /** A stored row, checked by the caller. */
  record Row(String result, long recordedAt, long crc) {}

  /** One read connection with its prepared lookup. */
  private record Reader(Connection connection, PreparedStatement select) {
    void close() {
      try {
        select.close();
      } catch (SQLException ignored) {
        // being discarded
      }
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing a call-log read connection failed: {}", e.getMessage());
      }
    }
  }

  private final StoreConnection store;
  private final int size;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition returned = lock.newCondition();
  private final ArrayDeque<Reader> idle = new ArrayDeque<>(); // guarded by lock
  private int open; // guarded by lock: connections open, idle or borrowed
  private boolean closed; // guarded by lock

  CallLogReaders(StoreConnection store, int size) {
    if (size < 1) {
      throw new IllegalArgumentException("a call log needs 1 or more read connections");
    }
    this.store = store;
    this.size = size;
  }

  /** The most read connections open at once. */
  int size() {
    return size;
  }

  /** The row of {@code key}, if there is one; {@code what} names the lookup in errors. */
  Optional<Row> find(String key, String what) {
    Reader reader = borrow(what);
    boolean healthy = false;
    try {
      reader.select().setString(1, key);
      Optional<Row> row;
      try (ResultSet rows = reader.select().executeQuery()) {
        row =
            rows.next()
                ? Optional.of(new Row(rows.getString(1), rows.getLong(2), rows.getLong(3)))
                : Optional.empty();
      }
      healthy = true;
      return row;
    } catch (SQLException e) {
      throw store.failure(what, e);
    } finally {
      giveBack(reader, healthy);
    }
  }

  private Reader borrow(String what) {
    lock.lock();
    try {
      while (true) {
        if (closed) {
          throw store.closedFailure(what);
        }
        Reader reader = idle.pollFirst();
        if (reader != null) {
          return reader;
        }
        if (open < size) {
          open++;
          break;
        }
        returned.awaitUninterruptibly();
      }
    } finally {
      lock.unlock();
    }
    // opening: outside the lock, so lookups on open connections go on meanwhile
    Connection connection = null;
    try {
      connection = store.openReader();
      return new Reader(connection, connection.prepareStatement(SELECT));
    } catch (SQLException e) {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      lock.lock();
      try {
        open--;
        returned.signal();
      } finally {
        lock.unlock();
      }
      throw store.failure(what, e);
    }
  }

  private void giveBack(Reader reader, boolean healthy) {
    lock.lock();
    try {
      if (healthy && !closed) {
        idle.addFirst(reader); // the most recently used: its pages are warm
        returned.signal();
        return;
      }
      open--;
      returned.signal();
    } finally {
      lock.unlock();
    }
    reader.close();
  }

  /** Closes the idle connections now and borrowed ones when they come back; later lookups fail. */
  @Override
  public void close() {
    List<Reader> closing;
    lock.lock();
    try {
      closed = true;
      closing = new ArrayList<>(idle);
      open -= idle.size();
      idle.clear();
      returned.signalAll();
    } finally {
      lock.unlock();
    }
    closing.forEach(Reader::close);
  }
}
