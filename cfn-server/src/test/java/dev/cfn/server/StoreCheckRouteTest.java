package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.server.auth.IssuedToken;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.fixture.DamagedTokenFile;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/store/check} covers the node's token file as well as its journal and memory file:
 * a token record with a flipped byte is listed (by its id, with the same "fails its checksum"
 * wording as the other stores' records, never its secret) and makes the answer not ok; so is a
 * client certificate record.
 */
class StoreCheckRouteTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path home;

  @Test
  void anIntactNodeChecksItsJournalMemoryAndTokenFile() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      String admin = node.token(Role.ADMIN);
      HttpResponse<String> r = node.get("/v1/store/check", admin);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode all = JSON.readTree(r.body());
      assertThat(all.path("ok").asBoolean(false)).isTrue();
      assertThat(kinds(all)).containsExactly("journal", "memory", "tokens");
      JsonNode tokens = all.path("files").get(2);
      assertThat(tokens.path("ok").asBoolean(false)).isTrue();
      assertThat(Path.of(tokens.path("file").asText()))
          .isEqualTo(home.resolve(TokenStore.DEFAULT_FILE));
    }
  }

  @Test
  void aFlippedByteInATokenRecordIsReportedByItsIdAndNeverItsSecret() throws Exception {
    Path file = home.resolve(TokenStore.DEFAULT_FILE);
    Files.createDirectories(file.getParent());
    String admin = DamagedTokenFile.token(file, Role.ADMIN, "admin").secret();
    IssuedToken damaged = DamagedTokenFile.token(file, Role.VIEWER, DamagedTokenFile.NOTE);
    DamagedTokenFile.damage(file, DamagedTokenFile.NOTE);

    try (TestNode node = TestNode.start(home)) {
      HttpResponse<String> r = node.get("/v1/store/check", admin);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).doesNotContain(damaged.secret()).doesNotContain(admin);
      JsonNode all = JSON.readTree(r.body());
      assertThat(all.path("ok").asBoolean(true)).isFalse();
      assertThat(kinds(all)).containsExactly("journal", "memory", "tokens");
      assertThat(all.path("files").get(0).path("ok").asBoolean(false)).isTrue();
      assertThat(all.path("files").get(1).path("ok").asBoolean(false)).isTrue();
      JsonNode tokens = all.path("files").get(2);
      assertThat(tokens.path("ok").asBoolean(true)).isFalse();
      assertThat(tokens.path("problems")).hasSize(1);
      assertThat(tokens.path("problems").get(0).asText())
          .startsWith("api_tokens: record '" + damaged.token().id() + "' fails its checksum");
      // and the damaged token itself is refused
      assertThat(node.get("/v1/store/check", damaged.secret()).statusCode()).isEqualTo(401);
    }
  }

  @Test
  void aFlippedByteInAClientCertificateRecordIsReportedByItsId() throws Exception {
    Path file = home.resolve(TokenStore.DEFAULT_FILE);
    Files.createDirectories(file.getParent());
    String admin = DamagedTokenFile.token(file, Role.ADMIN, "admin").secret();
    String damaged =
        DamagedTokenFile.certificate(file, Role.VIEWER, DamagedTokenFile.CERT_NOTE)
            .principal()
            .id();
    DamagedTokenFile.damage(file, DamagedTokenFile.CERT_NOTE);

    try (TestNode node = TestNode.start(home)) {
      HttpResponse<String> r = node.get("/v1/store/check", admin);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode all = JSON.readTree(r.body());
      assertThat(all.path("ok").asBoolean(true)).isFalse();
      JsonNode tokens = all.path("files").get(2);
      assertThat(tokens.path("kind").asText()).isEqualTo("tokens");
      assertThat(tokens.path("ok").asBoolean(true)).isFalse();
      assertThat(tokens.path("problems")).hasSize(1);
      assertThat(tokens.path("problems").get(0).asText())
          .startsWith("client_certs: record '" + damaged + "' fails its checksum");
      assertThat(r.body()).doesNotContain("PRIVATE KEY");
    }
  }

  private static List<String> kinds(JsonNode all) {
    List<String> kinds = new ArrayList<>();
    all.path("files").forEach(f -> kinds.add(f.path("kind").asText()));
    return kinds;
  }
}
