package dev.cfn.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit outbox of the token file: a change made with an actor queues its audit event in the
 * same transaction, and {@link TokenStore#drainAuditOutbox} moves the queue into the audit log in
 * order, each event once, also after a drain that appended an event but stopped before its commit.
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
}
