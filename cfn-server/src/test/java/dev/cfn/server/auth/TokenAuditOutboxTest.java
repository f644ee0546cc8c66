package dev.cfn.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.store.audit.AuditEntry;
import dev.cfn.store.audit.AuditEvent;
import dev.cfn.store.audit.AuditLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit outbox of the token file: a change made with an actor queues its audit event in the
 * same transaction, and {@link TokenStore#drainAuditOutbox} moves the queue into the audit log in
 * order, each event once, also after a drain that appended an event but stopped before its commit,
 * however many other entries were appended since (it reads the log from the mark of the last
 * committed drain, or whole).
 */
class TokenAuditOutboxTest {
  @TempDir Path cfn;

  @Test
  void queuedEventsAreMovedInOrderOnceAndWithoutTheSecret() throws Exception {
    Path file = cfn.resolve("tokens.db");
    try (TokenStore store = TokenStore.open(file)) {
      IssuedToken t =
          store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "n", "user:ana");
      assertThat(store.revoke(t.token().id(), "user:ana")).isTrue();
      assertThat(store.revoke("tok_000000000000", "user:ana")).isFalse();
      store.create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "second", "user:bo");
      assertThat(store.queuedAuditEvents()).isEqualTo(3);
      try (AuditLog log = AuditLog.open(cfn)) {
        assertThat(store.drainAuditOutbox(log)).isEqualTo(3);
        assertThat(store.drainAuditOutbox(log)).isZero();
      }
      List<AuditEvent> events = AuditLog.tail(cfn, 10).stream().map(AuditEntry::event).toList();
      assertThat(events)
          .extracting(AuditEvent::action)
          .containsExactly("token.create", "token.revoke", "token.create");
      assertThat(events)
          .extracting(AuditEvent::principal)
          .containsExactly("user:ana", "user:ana", "user:bo");
      assertThat(events.getFirst().detail())
          .containsEntry("role", "viewer")
          .containsEntry("scopes", "*")
          .containsKey(TokenStore.OUTBOX_KEY);
      assertThat(events.toString()).doesNotContain(t.secret().substring(4));
      assertThat(store.queuedAuditEvents()).isZero();
    }
  }

  @Test
  void anEventAppendedByADrainThatStoppedBeforeItsCommitIsNotAppendedAgain() throws Exception {
    Path file = cfn.resolve("tokens.db");
    try (TokenStore store = TokenStore.open(file)) {
      IssuedToken t =
          store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "n", "user:ana");
      String eventId;
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
          Statement sql = c.createStatement();
          ResultSet rows = sql.executeQuery("SELECT event_id FROM audit_outbox")) {
        assertThat(rows.next()).isTrue();
        eventId = rows.getString(1);
      }
      try (AuditLog log = AuditLog.open(cfn)) {
        // what a drain appends before its transaction commits: the event, with its outbox id
        log.append(
            AuditEvent.now(
                "user:ana",
                "token.create",
                "token:" + t.token().id(),
                AuditEvent.Outcome.SUCCESS,
                Map.of(TokenStore.OUTBOX_KEY, eventId)));
        assertThat(store.drainAuditOutbox(log)).isZero();
      }
      assertThat(store.queuedAuditEvents()).isZero();
      assertThat(AuditLog.tail(cfn, 10)).hasSize(1);
      assertThat(Files.exists(file)).isTrue();
    }
  }

  /** More unrelated entries than a look-back of the last few (once queued + 64) could see. */
  private static final int UNRELATED = 150;

  @Test
  void aDrainThatStoppedBeforeItsCommitIsNotRepeatedAfterManyOtherEntries() throws Exception {
    Path file = cfn.resolve("tokens.db");
    try (TokenStore store = TokenStore.open(file);
        AuditLog log = AuditLog.open(cfn)) {
      // a committed drain first, so that the log has a mark and the next drains read from it
      store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "a", "user:ana");
      assertThat(store.drainAuditOutbox(log)).isEqualTo(1);
      unrelated(log, 10);
      store.create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "b", "user:bo");
      store.create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "c", "user:cy");
      stopsBeforeItsCommit(file, store, log, cfn); // appends b, then fails: b and c stay queued
      assertThat(store.queuedAuditEvents()).isEqualTo(2);
      unrelated(log, UNRELATED);
      assertThat(store.drainAuditOutbox(log)).isEqualTo(1); // c only
      assertThat(store.queuedAuditEvents()).isZero();
    }
    assertThat(outboxIdsCounted(cfn)).hasSize(3).allSatisfy((id, n) -> assertThat(n).isOne());
    assertThat(AuditLog.tail(cfn, 1000).stream().map(AuditEntry::event))
        .filteredOn(e -> e.action().equals("token.create"))
        .extracting(AuditEvent::principal)
        .containsExactly("user:ana", "user:bo", "user:cy");
  }

  @Test
  void withoutAMarkTheWholeLogIsRead() throws Exception {
    Path file = cfn.resolve("tokens.db");
    try (TokenStore store = TokenStore.open(file);
        AuditLog log = AuditLog.open(cfn)) {
      unrelated(log, 3);
      store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "a", "user:ana");
      stopsBeforeItsCommit(file, store, log, cfn); // the first drain into this log: no mark yet
      unrelated(log, UNRELATED);
      assertThat(store.drainAuditOutbox(log)).isZero();
      assertThat(store.queuedAuditEvents()).isZero();
    }
    assertThat(outboxIdsCounted(cfn)).hasSize(1).allSatisfy((id, n) -> assertThat(n).isOne());
  }

  @Test
  void aNewLogInPlaceOfTheMarkedOneIsReadWhole() throws Exception {
    Path file = cfn.resolve("tokens.db");
    Path other = cfn.resolve("other");
    try (TokenStore store = TokenStore.open(file)) {
      try (AuditLog log = AuditLog.open(cfn)) {
        unrelated(log, UNRELATED);
        store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "a", "user:ana");
        assertThat(store.drainAuditOutbox(log)).isEqualTo(1); // its mark: past entry 150
      }
      try (AuditLog log = AuditLog.open(other)) { // a new log: entries numbered from 1 again
        store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "b", "user:bo");
        stopsBeforeItsCommit(file, store, log, other);
        unrelated(log, 5);
        assertThat(store.drainAuditOutbox(log)).isZero();
        assertThat(store.queuedAuditEvents()).isZero();
      }
    }
    assertThat(outboxIdsCounted(other)).hasSize(1).allSatisfy((id, n) -> assertThat(n).isOne());
  }

  @Test
  void aDrainReadsTheLogOnlyFromItsMark() throws Exception {
    Path file = cfn.resolve("tokens.db");
    try (TokenStore store = TokenStore.open(file);
        AuditLog log = AuditLog.open(cfn)) {
      // an entry with an outbox id before a committed drain's mark is never looked at again
      log.append(
          AuditEvent.now(
              "user:x",
              "token.create",
              "token:x",
              AuditEvent.Outcome.SUCCESS,
              Map.of(TokenStore.OUTBOX_KEY, "00000000000000aa")));
      store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "a", "user:ana");
      assertThat(store.drainAuditOutbox(log)).isEqualTo(1);
      store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "b", "user:bo");
      sql(file, "UPDATE audit_outbox SET event_id = '00000000000000aa'");
      assertThat(store.drainAuditOutbox(log)).isEqualTo(1);
    }
    assertThat(outboxIdsCounted(cfn)).containsEntry("00000000000000aa", 2L);
  }

  @Test
  void aLogThatCannotBeReadBackStopsTheDrainWithNothingAppended() throws Exception {
    Path file = cfn.resolve("tokens.db");
    Path logFile = cfn.resolve(AuditLog.FOLDER).resolve(AuditLog.FILE);
    try (TokenStore store = TokenStore.open(file)) {
      store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "a", "user:ana");
      try (AuditLog log = AuditLog.open(cfn)) {
        unrelated(log, 3);
        byte[] bytes = Files.readAllBytes(logFile);
        bytes[bytes.length - 40] ^= 1; // inside the last entry, after the log was opened
        Files.write(logFile, bytes);
        assertThatThrownBy(() -> store.drainAuditOutbox(log))
            .hasMessageContaining("cannot read the audit log back");
        assertThat(Files.readAllBytes(logFile)).isEqualTo(bytes);
      }
      assertThat(store.queuedAuditEvents()).isOne();
    }
  }

  /** Appends {@code n} events that are not from the outbox. */
  private static void unrelated(AuditLog log, int n) {
    for (int i = 0; i < n; i++) {
      log.append(
          AuditEvent.now(
              "user:other", "agent.spawn", "agent:a" + i, AuditEvent.Outcome.SUCCESS, Map.of()));
    }
  }

  /**
   * Runs a real drain that appends the first queued event and then fails before its commit: a
   * trigger refuses the delete of its row, so the transaction rolls back after the append.
   */
  private static void stopsBeforeItsCommit(Path file, TokenStore store, AuditLog log, Path dir)
      throws Exception {
    sql(
        file,
        "CREATE TRIGGER stop BEFORE DELETE ON audit_outbox"
            + " BEGIN SELECT RAISE(ABORT, 'stopped before the commit'); END");
    try {
      int before = outboxIdsCounted(dir).size();
      assertThatThrownBy(() -> store.drainAuditOutbox(log))
          .hasMessageContaining("stopped before the commit");
      assertThat(outboxIdsCounted(dir)).hasSize(before + 1);
    } finally {
      sql(file, "DROP TRIGGER stop");
    }
  }

  /** How many times each outbox id is in the log under {@code dir}. */
  private static Map<String, Long> outboxIdsCounted(Path dir) {
    return AuditLog.tail(dir, 0).stream()
        .map(e -> e.event().detail().get(TokenStore.OUTBOX_KEY))
        .filter(Objects::nonNull)
        .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
  }

  private static void sql(Path file, String statement) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement sql = c.createStatement()) {
      sql.execute(statement);
    }
  }
}
