package dev.cfn.certify;

import dev.cfn.core.AgentType;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the nodes the checks serve ({@link ServeNode}, each in a JVM of its own, as {@code cfn
 * serve} serves it) have in common: the agent type {@value #SINK} the checks send their load to,
 * whose agents count what they handle and, for keys starting with {@code flaky}, fail every 10th
 * message on purpose; and the tokens the checks issue into a node's token file.
 */
final class ServedNode {
  /** The agent type the checks send their load to. */
  static final String SINK = "certify-sink";

  /**
   * The principal of the audit events of the tokens and certificates the checks issue and revoke
   * ({@code TokenStore} queues one for each).
   */
  static final String ACTOR = "cfn:certify";

  private ServedNode() {}

  /** Told of each arrival of a {@code {"item": ID}} payload: the item and its arrival count. */
  @FunctionalInterface
  interface Arrivals {
    void arrived(String item, int count);
  }

  /** The sink type: counts what it handles; {@code flaky*} agents fail every 10th message. */
  static AgentType sink(AtomicLong handled) {
    return sink(handled, null);
  }

  /**
   * The sink type, also telling {@code arrivals} (when not null) of each {@code {"item": ID}}
   * payload it handled, for the resilience check's count of what arrived and what arrived twice.
   */
  static AgentType sink(AtomicLong handled, Arrivals arrivals) {
    Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    return AgentType.of(
        SINK,
        id -> {
          long[] seen = new long[1];
          return (m, ctx) -> {
            seen[0]++;
            if (id.key().startsWith("flaky") && seen[0] % 10 == 0) {
              throw new IllegalStateException("planned failure of message " + seen[0]);
            }
            handled.incrementAndGet();
            if (arrivals != null && m.payload() instanceof Map<?, ?> p && p.get("item") != null) {
              String item = String.valueOf(p.get("item"));
              arrivals.arrived(
                  item, counts.computeIfAbsent(item, k -> new AtomicInteger()).incrementAndGet());
            }
            if (m.isRequest()) {
              ctx.reply(m.payload());
            }
          };
        });
  }

  /** A token of {@code role} with {@code scopes} (default {@code *}), valid for a day. */
  static String token(Path home, Role role, String... scopes) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      return store.create(role, scopes(scopes), Duration.ofDays(1), "cfn certify", ACTOR).secret();
    }
  }

  /** A token that expired a day ago. */
  static String expiredToken(Path home, Role role) {
    Clock past = Clock.fixed(Instant.now().minus(Duration.ofDays(2)), ZoneOffset.UTC);
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE), past)) {
      return store
          .create(role, List.of(Scope.ALL), Duration.ofDays(1), "cfn certify", ACTOR)
          .secret();
    }
  }

  /** A token that was revoked. */
  static String revokedToken(Path home, Role role) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      var issued = store.create(role, List.of(Scope.ALL), Duration.ofDays(1), "cfn certify", ACTOR);
      store.revoke(issued.token().id(), ACTOR);
      return issued.secret();
    }
  }

  private static List<Scope> scopes(String... scopes) {
    return scopes.length == 0
        ? List.of(Scope.ALL)
        : Arrays.stream(scopes).map(Scope::parse).toList();
  }
}
