package dev.cfn.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A settable clock, principals and raw access to memory files, for the memory store's tests. */
final class MemoryFixtures {
  static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  static final MemoryAccessor ALICE = MemoryAccessor.agent("alice/1", "swarm-a", "project-x");
  static final MemoryAccessor AMY = MemoryAccessor.agent("amy/1", "swarm-a", "project-x");
  static final MemoryAccessor BOB = MemoryAccessor.agent("bob/1", "swarm-b", "project-x");
  static final MemoryAccessor CAROL = MemoryAccessor.agent("carol/1", "swarm-c", "project-y");
  static final MemoryAccessor LONER = MemoryAccessor.agent("loner/1");
  static final MemoryAccessor OPERATOR = MemoryAccessor.operator();

  private MemoryFixtures() {}

  static Connection raw(Path file) throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + file);
  }

  /** A clock the test moves by hand. */
  static final class SettableClock extends Clock {
    private volatile Instant now;

    SettableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
