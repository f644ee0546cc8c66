package dev.cfn.cluster.pg;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wake-up hints through PostgreSQL's {@code LISTEN}/{@code NOTIFY}: a connection of its own,
 * outside the journal's pool, listens on {@link #CHANNEL}, and {@code onWake} runs whenever a
 * journal of the same schema opened with {@link PgJournal.Builder#notifyPending} committed a
 * transaction that stored pending messages (appends, replays, outbox sends).
 *
 * <p>A hint, never a source of truth: notifications are not stored, so one sent while this listener
 * was disconnected is lost. Whoever wakes must therefore still read the tables, and should still
 * poll now and then; {@code onWake} also runs after every (re)connection, to cover what was missed.
 * Many commits may be folded into one call. {@code onWake} runs on the listener's thread and must
 * be quick (hand work off).
 */
public final class PgWakeups implements AutoCloseable {
  /** The channel the journal notifies; the payload is the journal's schema. */
  public static final String CHANNEL = "cfn_pending";

  private static final Logger LOG = LoggerFactory.getLogger(PgWakeups.class);

  /** Opens a connection outside the pool. */
  @FunctionalInterface
  interface Connector {
    Connection open() throws SQLException;
  }

  private final Connector connector;
  private final String where;
  private final Runnable onWake;
  private final Thread thread;
  private final AtomicLong wakeups = new AtomicLong();
  private volatile boolean running = true;
  private volatile Connection current;

  PgWakeups(Connector connector, String where, Runnable onWake) {
    this.connector = connector;
    this.where = where;
    this.onWake = Objects.requireNonNull(onWake, "onWake");
    this.thread = Thread.ofPlatform().daemon().name("cfn-pg-listen").unstarted(this::run);
  }

  PgWakeups start() {
    thread.start();
    return this;
  }

  /** How many times {@code onWake} ran (notifications and reconnections). */
  public long wakeups() {
    return wakeups.get();
  }

  private void run() {
    long backoff = 200;
    while (running) {
      try (Connection c = connector.open()) {
        current = c;
        String schema;
        try (Statement s = c.createStatement()) {
          try (ResultSet rows = s.executeQuery("SELECT current_schema()")) {
            rows.next();
            schema = rows.getString(1);
          }
          s.execute("LISTEN " + CHANNEL);
        }
        backoff = 200;
        wake(); // whatever was notified while not listening
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] got = pg.getNotifications(500);
          if (got == null) {
            continue;
          }
          for (PGNotification n : got) {
            if (CHANNEL.equals(n.getName()) && Objects.equals(schema, n.getParameter())) {
              wake();
              break;
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (!running) {
          return;
        }
        LOG.warn(
            "listening for wake-ups on {} failed, reconnecting in {} ms: {}",
            where,
            backoff,
            e.getMessage());
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          return;
        }
        backoff = Math.min(5000, backoff * 2);
      } finally {
        current = null;
      }
    }
  }

  private void wake() {
    wakeups.incrementAndGet();
    try {
      onWake.run();
    } catch (RuntimeException e) {
      LOG.warn("a wake-up handler failed: {}", e.toString());
    }
  }

  /** Stops listening and closes the connection. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    Connection c = current;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // closing anyway
      }
    }
    thread.join(Duration.ofSeconds(5));
  }
}
