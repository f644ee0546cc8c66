package dev.cfn.certify;

import dev.cfn.core.AgentType;
import dev.cfn.server.CfnServer;
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
import java.util.function.Consumer;

/**
 * A cfn node served in this JVM as {@code cfn serve} serves it ({@link CfnServer} over {@code
 * HOME/.cfn}: TLS 1.3 with its generated certificate, the token file, the audit log, default rate
 * and size limits) on a free loopback port, with one more agent type for the checks to send to:
 * {@value #SINK}, whose agents count what they handle and, for keys starting with {@code flaky},
 * fail every 10th message on purpose.
 */
final class ServedNode implements AutoCloseable {
  /** The agent type the checks send their load to. */
  static final String SINK = "certify-sink";

  /**
   * The principal of the audit events of the tokens and certificates the checks issue and revoke
   * ({@code TokenStore} queues one for each).
   */
  static final String ACTOR = "cfn:certify";

  final Path home;
  final CfnServer server;
  final ApiClient client;
  final AtomicLong handled = new AtomicLong();

  /** How many times each {@code {"item": ID}} payload arrived, for the resilience check. */
  final Map<String, AtomicInteger> arrivals = new ConcurrentHashMap<>();

  private ServedNode(Path home, Consumer<CfnServer.Builder> tweak) throws Exception {
    this.home = home;
    CfnServer.Builder b = CfnServer.builder(home).port(0).agentType(sink(handled, arrivals));
    tweak.accept(b);
    this.server = b.start();
    this.client =
        new ApiClient(
            server.url(),
            server.certificate().map(c -> c.trustStore()).orElse(null),
            Duration.ofSeconds(10));
  }

  /** Serves the node of {@code home}, {@code tweak} changing its set-up (for broken subjects). */
  static ServedNode start(Path home, Consumer<CfnServer.Builder> tweak) throws Exception {
    return new ServedNode(home, tweak);
  }

  /** The sink type: counts what it handles; {@code flaky*} agents fail every 10th message. */
  static AgentType sink(AtomicLong handled) {
    return sink(handled, null);
  }

  /** The sink type, also counting each {@code {"item": ID}} payload's arrivals when asked. */
  static AgentType sink(AtomicLong handled, Map<String, AtomicInteger> arrivals) {
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
              arrivals
                  .computeIfAbsent(String.valueOf(p.get("item")), k -> new AtomicInteger())
                  .incrementAndGet();
            }
            if (m.isRequest()) {
              ctx.reply(m.payload());
            }
          };
        });
  }

  Path cfnDir() {
    return home.resolve(".cfn");
  }

  /** A token of {@code role} with {@code scopes} (default {@code *}), valid for a day. */
  String token(Role role, String... scopes) {
    return token(home, role, scopes);
  }

  static String token(Path home, Role role, String... scopes) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      return store.create(role, scopes(scopes), Duration.ofDays(1), "cfn certify", ACTOR).secret();
    }
  }

  /** A token that expired a day ago. */
  String expiredToken(Role role) {
    return expiredToken(home, role);
  }

  static String expiredToken(Path home, Role role) {
    Clock past = Clock.fixed(Instant.now().minus(Duration.ofDays(2)), ZoneOffset.UTC);
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE), past)) {
      return store
          .create(role, List.of(Scope.ALL), Duration.ofDays(1), "cfn certify", ACTOR)
          .secret();
    }
  }

  /** A token that was revoked. */
  String revokedToken(Role role) {
    return revokedToken(home, role);
  }

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

  @Override
  public void close() {
    server.close();
  }
}
