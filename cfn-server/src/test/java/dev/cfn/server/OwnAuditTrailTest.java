package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.store.audit.AuditEntry;
import dev.cfn.store.audit.AuditLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node built with an audit trail of its own ({@code .audit(trail)}) does not move the events
 * {@code cfn token} and {@code cfn cert} queue in the token file into that trail, which confirms
 * nothing: they stay queued, none lost, and since the node does not hold {@code .cfn/audit} a
 * command moves them into that log while the node runs, each once.
 */
class OwnAuditTrailTest {
  @TempDir Path home;

  @Test
  void theQueuedTokenEventsWaitForTheAuditLogWhichTheNodeLeavesFree() throws Exception {
    Path tokens = home.resolve(TokenStore.DEFAULT_FILE);
    try (TokenStore store = TokenStore.open(tokens)) {
      store.create(Role.VIEWER, List.of(Scope.ALL), Duration.ofDays(1), "queued", "user:ana");
    }
    try (TestNode node = TestNode.start(home)) {
      assertThat(node.server.tokens().queuedAuditEvents())
          .as("not moved into the node's own trail")
          .isEqualTo(1);
      assertThat(node.audit.events()).noneMatch(e -> e.action().startsWith("token."));

      // what cfn token create|revoke does after its change, while this node runs
      try (AuditLog log = AuditLog.open(home.resolve(".cfn"));
          TokenStore store = TokenStore.open(tokens)) {
        assertThat(store.drainAuditOutbox(log)).isEqualTo(1);
        assertThat(store.queuedAuditEvents()).isZero();
      }
    }
    List<AuditEntry> recorded = AuditLog.tail(home.resolve(".cfn"), 10);
    assertThat(recorded)
        .extracting(e -> e.event().action() + " " + e.event().principal())
        .containsExactly("token.create user:ana");
  }
}
