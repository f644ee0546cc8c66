package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.crypto.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditAndKeysCommandTest {
  @TempDir Path home;

  static final ObjectMapper JSON = new ObjectMapper();

  CliRun cfn(String... args) {
    return CliRun.run(args);
  }

  @Test
  void keysInitRotateListAreAuditedAndTheLogVerifies() throws Exception {
    String h = home.toString();
    CliRun init = cfn("keys", "init", "--home", h, "--json");
    assertThat(init.code()).as(init.err()).isZero();
    String first = JSON.readTree(init.out()).get("masterKeyId").asText();

    // a store seals a record before the rotation
    Keyring ring = Keyring.open(home.resolve(".cfn/keys"), Map.of());
    byte[] sealed = ring.cipher("journal").encrypt("before".getBytes(), new byte[0]);

    CliRun rotate = cfn("keys", "rotate", "--home", h, "--json");
    assertThat(rotate.code()).as(rotate.err()).isZero();
    JsonNode r = JSON.readTree(rotate.out());
    assertThat(r.get("oldMasterKeyId").asText()).isEqualTo(first);
    assertThat(r.get("dataKeysRewrapped").asInt()).isEqualTo(1);
    assertThat(
            Keyring.open(home.resolve(".cfn/keys"), Map.of())
                .cipher("journal")
                .decrypt(sealed, new byte[0]))
        .isEqualTo("before".getBytes());

    CliRun list = cfn("keys", "list", "--home", h);
    assertThat(list.code()).isZero();
    assertThat(list.out())
        .contains(r.get("newMasterKeyId").asText())
        .contains("journal")
        .doesNotContain(first);

    CliRun tail = cfn("audit", "tail", "--home", h, "--json");
    assertThat(tail.code()).as(tail.err()).isZero();
    List<String> lines = tail.out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(JSON.readTree(lines.get(0)).get("action").asText()).isEqualTo("keys.init");
    assertThat(JSON.readTree(lines.get(1)).get("action").asText()).isEqualTo("keys.rotate");
    assertThat(JSON.readTree(lines.get(1)).get("outcome").asText()).isEqualTo("SUCCESS");

    CliRun human = cfn("audit", "tail", "-n", "1", "--home", h);
    assertThat(human.out()).startsWith("#").contains("keys.rotate").contains("SUCCESS");

    CliRun ok =
        cfn(
            "audit",
            "verify",
            "--home",
            h,
            "--public-key",
            home.resolve(".cfn/keys/" + SigningKey.PUBLIC_FILE).toString());
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains(": OK").contains("2 events");
  }

  @Test
  void initSaysWhichFilesHoldPlainRecordsWrittenBeforeIt() throws Exception {
    String h = home.toString();
    String memory = home.resolve(".cfn/memory.db").toString();
    String early = "WrittenBeforeTheKeyringKp3";
    assertThat(cfn("memory", "put", "old", early, "--memory", memory).code()).isZero();
    CliRun init = cfn("keys", "init", "--home", h);
    assertThat(init.code()).as(init.err()).isZero();
    assertThat(init.out())
        .contains("note: " + memory)
        .contains("were written before the keyring")
        .contains("stay plain");
    // which is the truth: the early record is still there in plain text, and still readable
    assertThat(
            new String(
                Files.readAllBytes(home.resolve(".cfn/memory.db")),
                java.nio.charset.StandardCharsets.ISO_8859_1))
        .contains(early);
    assertThat(cfn("memory", "get", "old", "--memory", memory).out()).contains(early);
  }

  @Test
  void sealExistingSealsWhatWasWrittenBeforeTheKeyringAndRefusesBadInput() throws Exception {
    String h = home.toString();
    String memory = home.resolve(".cfn/memory.db").toString();
    String early = "SealMeLaterCanaryWq55";
    // no home, no keyring: refused, nothing made
    CliRun noHome = cfn("keys", "seal-existing", "--home", home.resolve("missing").toString());
    assertThat(noHome.code()).isEqualTo(2);
    assertThat(noHome.err()).contains("no folder").contains("--home");
    CliRun noCfn = cfn("keys", "seal-existing", "--home", h);
    assertThat(noCfn.code()).isEqualTo(2);
    assertThat(noCfn.err()).contains("no .cfn folder").contains("nothing was changed");
    assertThat(cfn("memory", "put", "old", "value " + early, "--memory", memory).code()).isZero();
    CliRun noKeys = cfn("keys", "seal-existing", "--home", h);
    assertThat(noKeys.code()).isEqualTo(2);
    assertThat(noKeys.err()).contains("no keyring").contains("cfn keys init");

    assertThat(cfn("keys", "init", "--home", h).code()).isZero();
    CliRun dry = cfn("keys", "seal-existing", "--home", h, "--dry-run", "--json");
    assertThat(dry.code()).as(dry.err()).isZero();
    JsonNode plan = JSON.readTree(dry.out());
    assertThat(plan.get("files").get(0).get("plainRecords").asLong()).isEqualTo(1);
    assertThat(raw(".cfn/memory.db")).contains(early); // a dry run changes nothing

    CliRun seal = cfn("keys", "seal-existing", "--home", h, "--json");
    assertThat(seal.code()).as(seal.err()).isZero();
    JsonNode done = JSON.readTree(seal.out());
    assertThat(done.get("sealed").get(0).get("recordsSealed").asLong()).isEqualTo(1);
    assertThat(raw(".cfn/memory.db")).doesNotContain(early);
    assertThat(cfn("memory", "get", "old", "--memory", memory).out()).contains(early);

    CliRun again = cfn("keys", "seal-existing", "--home", h);
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("already sealed").contains("--force");

    List<String> actions =
        cfn("audit", "tail", "--home", h, "--json")
            .out()
            .lines()
            .map(l -> l.contains("keys.seal-existing") ? "seal" : "other")
            .toList();
    assertThat(actions).contains("seal");
  }

  private String raw(String file) throws java.io.IOException {
    return new String(
        Files.readAllBytes(home.resolve(file)), java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  @Test
  void withAKeyringTheCommandsSealWhatTheyWriteAndRotationKeepsItReadable() throws Exception {
    String h = home.toString();
    String memory = home.resolve(".cfn/memory.db").toString();
    String secret = "NobodyReadsThisZq81";
    assertThat(cfn("keys", "init", "--home", h).code()).isZero();
    CliRun put = cfn("memory", "put", "k", "value " + secret, "--memory", memory);
    assertThat(put.code()).as(put.err()).isZero();
    byte[] raw = Files.readAllBytes(home.resolve(".cfn/memory.db"));
    byte[] wal =
        Files.exists(home.resolve(".cfn/memory.db-wal"))
            ? Files.readAllBytes(home.resolve(".cfn/memory.db-wal"))
            : new byte[0];
    assertThat(new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1))
        .doesNotContain(secret);
    assertThat(new String(wal, java.nio.charset.StandardCharsets.ISO_8859_1))
        .doesNotContain(secret);
    assertThat(cfn("keys", "rotate", "--home", h).code()).isZero();
    CliRun get = cfn("memory", "get", "k", "--memory", memory);
    assertThat(get.code()).as(get.err()).isZero();
    assertThat(get.out()).contains("value " + secret);
    assertThat(cfn("keys", "list", "--home", h).out()).contains("memory");
    // the keyring gone: a clear refusal naming the fix, exit 2
    Files.move(home.resolve(".cfn/keys"), home.resolve("keys-aside"));
    CliRun refused = cfn("memory", "get", "k", "--memory", memory);
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err())
        .startsWith("cfn memory get: ")
        .contains("memory.db is encrypted")
        .contains("fix: set CFN_MASTER_KEY");
  }

  @Test
  void verifyNamesTheFirstBadEntryAndExitsOne() throws Exception {
    String h = home.toString();
    assertThat(cfn("keys", "init", "--home", h).code()).isZero();
    assertThat(cfn("keys", "rotate", "--home", h).code()).isZero();
    Path log = home.resolve(".cfn").resolve(AuditLog.FOLDER).resolve(AuditLog.FILE);
    byte[] bytes = Files.readAllBytes(log);
    bytes[bytes.length - 20] ^= 0x10; // inside the last entry's hash
    Files.write(log, bytes);
    CliRun bad = cfn("audit", "verify", "--home", h, "--json");
    assertThat(bad.code()).isEqualTo(ExitCode.FAILED);
    JsonNode r = JSON.readTree(bad.out());
    assertThat(r.get("ok").asBoolean()).isFalse();
    assertThat(r.get("badEntry").asLong()).isEqualTo(r.get("entries").asLong() + 1);
    assertThat(bad.err()).startsWith("cfn audit verify: ").contains("does not match its hash");
  }
}
