package dev.cfn.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.store.crypto.Keyring;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS private key, the one secret a node stores: sealed under the keyring when there is one,
 * read back through it, and refused with its fix when the keyring is gone.
 */
class SealedPrivateKeyTest {
  @TempDir Path home;

  @Test
  void withAKeyringTheGeneratedKeyIsSealedAndReadsBack() throws Exception {
    Path cfn = home.resolve(".cfn");
    Keyring.init(cfn.resolve("keys"), Map.of()).close();
    Path tls = cfn.resolve("tls");
    ServerCertificate made = ServerCertificate.loadOrCreate(tls, null);
    String stored = Files.readString(tls.resolve(ServerCertificate.KEY_FILE));
    assertThat(stored)
        .startsWith(ServerCertificate.SEALED_BEGIN)
        .doesNotContain("PRIVATE KEY-----\nMI");
    ServerCertificate again = ServerCertificate.loadOrCreate(tls, null);
    assertThat(again.fingerprint()).isEqualTo(made.fingerprint());
    assertThat(again.keyStore("x".toCharArray()).getKey("cfn", "x".toCharArray()))
        .isEqualTo(made.keyStore("x".toCharArray()).getKey("cfn", "x".toCharArray()));
    Files.move(cfn.resolve("keys"), home.resolve("aside"));
    assertThatThrownBy(() -> ServerCertificate.loadOrCreate(tls, null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("server.key is sealed under the keyring")
        .hasMessageContaining("fix:");
  }

  @Test
  void withoutAKeyringTheKeyIsPlainPem() throws Exception {
    Path tls = home.resolve(".cfn").resolve("tls");
    ServerCertificate.loadOrCreate(tls, null);
    assertThat(Files.readString(tls.resolve(ServerCertificate.KEY_FILE)))
        .startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(ServerCertificate.loadOrCreate(tls, null).generated()).isFalse();
  }

  @Test
  void aKeyWrittenBeforeTheKeyringIsSealedInPlaceOnceAndStillServes() throws Exception {
    Path cfn = home.resolve(".cfn");
    Path tls = cfn.resolve("tls");
    ServerCertificate made = ServerCertificate.loadOrCreate(tls, null); // plain: no keyring yet
    assertThatThrownBy(() -> ServerCertificate.sealKeyIfPlain(tls))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no keyring")
        .hasMessageContaining("left as it was");
    assertThat(Files.readString(tls.resolve(ServerCertificate.KEY_FILE)))
        .startsWith("-----BEGIN PRIVATE KEY-----");
    Keyring.init(cfn.resolve("keys"), Map.of()).close();
    assertThat(ServerCertificate.sealKeyIfPlain(tls)).isTrue();
    assertThat(Files.readString(tls.resolve(ServerCertificate.KEY_FILE)))
        .startsWith(ServerCertificate.SEALED_BEGIN);
    assertThat(ServerCertificate.sealKeyIfPlain(tls)).as("sealed already").isFalse();
    ServerCertificate again = ServerCertificate.loadOrCreate(tls, null);
    assertThat(again.keyStore("x".toCharArray()).getKey("cfn", "x".toCharArray()))
        .isEqualTo(made.keyStore("x".toCharArray()).getKey("cfn", "x".toCharArray()));
    assertThat(ServerCertificate.sealKeyIfPlain(home.resolve("none"))).isFalse();
  }
}
