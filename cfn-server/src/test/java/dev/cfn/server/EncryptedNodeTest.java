package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.auth.Role;
import dev.cfn.store.crypto.Keyring;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn serve} over a home with a keyring: what the API writes (a RELIABLE message that ends
 * as a dead letter, a memory value) is sealed in the files under {@code .cfn}, and reads back
 * through the API; the same writes without a keyring leave the canary in the files, so the search
 * can fail.
 */
class EncryptedNodeTest {
  static final String CANARY = "ServeCanaryWq58";

  @TempDir Path home;

  @Test
  void withAKeyringTheApiWritesNothingReadableToDisk() throws Exception {
    Keyring.init(home.resolve(".cfn/keys"), Map.of()).close();
    writeThroughTheApi();
    assertThat(hits()).isEmpty();
  }

  @Test
  void withoutAKeyringTheSameWritesLeaveTheCanary() throws Exception {
    writeThroughTheApi();
    assertThat(hits())
        .anyMatch(h -> h.startsWith("cfn.db"))
        .anyMatch(h -> h.startsWith("memory.db"));
  }

  @Test
  void theServerSaysWhetherRecordsAreSealedAndWhereTheMasterKeyComesFromNeverTheKey()
      throws Exception {
    assertThat(CfnServer.encryptionAtRest(home, Map.of())).startsWith("off (no keyring");
    String key = java.util.Base64.getEncoder().encodeToString(new byte[32]);
    assertThat(CfnServer.encryptionAtRest(home, Map.of(Keyring.MASTER_KEY_ENV, key)))
        .startsWith("on (AES-256-GCM, master key from the environment variable CFN_MASTER_KEY")
        .doesNotContain(key);
    Keyring.init(home.resolve(".cfn/keys"), Map.of()).close();
    try (TestNode node = TestNode.start(home)) {
      assertThat(node.server.encryptionAtRest())
          .startsWith("on (AES-256-GCM, master key from ")
          .contains(".cfn/keys/master.json");
    }
  }

  private void writeThroughTheApi() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      String admin = node.token(Role.ADMIN);
      var sent =
          node.call(
              "POST",
              "/v1/messages/send",
              admin,
              "{\"to\":\"failing/1\",\"payload\":{\"secret\":\""
                  + CANARY
                  + "\"},\"reliable\":true}");
      assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
      var put =
          node.call("PUT", "/v1/memory/notes/k", admin, "{\"value\":\"value " + CANARY + "\"}");
      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      assertThat(node.get("/v1/memory/notes/k", admin).body()).contains(CANARY);
      long deadline = System.nanoTime() + 30_000_000_000L;
      String letters = "";
      while (System.nanoTime() < deadline && !letters.contains("failing/1")) {
        letters = node.get("/v1/dead-letters", admin).body();
        Thread.sleep(50);
      }
      assertThat(letters).contains("failing/1");
    }
  }

  private List<String> hits() throws Exception {
    List<String> out = new ArrayList<>();
    Path cfn = home.resolve(".cfn");
    try (Stream<Path> files = Files.walk(cfn)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        if (text.contains(CANARY) || text.contains(CANARY.toLowerCase(Locale.ROOT))) {
          out.add(cfn.relativize(f).toString());
        }
      }
    }
    return out;
  }
}
