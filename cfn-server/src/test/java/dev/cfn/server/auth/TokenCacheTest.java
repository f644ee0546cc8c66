package dev.cfn.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.MovingClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token cache of {@link TokenStore#authenticate}: a revocation made through another store (as
 * {@code cfn token revoke} does while {@code cfn serve} runs) takes effect once {@link
 * TokenStore#CACHE_FOR} has passed since the token was last read, never later; one through the same
 * store at once; expiry is checked on every call; new tokens work at once.
 */
class TokenCacheTest {
  @TempDir Path dir;

  @Test
  void aRevocationByAnotherProcessTakesEffectWithinTheBound() {
    MovingClock clock = new MovingClock();
    Path file = dir.resolve("tokens.db");
    try (TokenStore server = TokenStore.open(file, clock);
        TokenStore operator = TokenStore.open(file, clock)) {
      IssuedToken t =
          operator.create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "t", "user:test");
      assertThat(server.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.ACCEPTED);
      operator.revoke(t.token().id(), "user:test");
      clock.advance(TokenStore.CACHE_FOR); // the bound has passed since the server read it
      assertThat(server.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.REVOKED);
      clock.advance(Duration.ofHours(1));
      assertThat(server.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.REVOKED);
    }
  }

  @Test
  void aRevocationThroughTheSameStoreIsImmediate() {
    MovingClock clock = new MovingClock();
    try (TokenStore store = TokenStore.open(dir.resolve("tokens.db"), clock)) {
      IssuedToken t =
          store.create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "t", "user:test");
      assertThat(store.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.ACCEPTED);
      store.revoke(t.token().id(), "user:test");
      assertThat(store.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.REVOKED);
    }
  }

  @Test
  void expiryIsCheckedOnEveryCallAndNewTokensWorkAtOnce() {
    MovingClock clock = new MovingClock();
    Path file = dir.resolve("tokens.db");
    try (TokenStore server = TokenStore.open(file, clock);
        TokenStore operator = TokenStore.open(file, clock)) {
      String unknown = "cfn_" + "B".repeat(43);
      assertThat(server.authenticate(unknown).verdict()).isEqualTo(TokenStore.Verdict.UNKNOWN);
      IssuedToken t =
          operator.create(Role.AGENT, List.of(Scope.ALL), Duration.ofSeconds(2), "t", "user:test");
      assertThat(server.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.ACCEPTED);
      clock.advance(Duration.ofMillis(1500)); // read again here, and cached
      assertThat(server.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.ACCEPTED);
      clock.advance(Duration.ofMillis(600)); // past its expiry, inside the cache's second
      assertThat(server.authenticate(t.secret()).verdict()).isEqualTo(TokenStore.Verdict.EXPIRED);
    }
  }
}
