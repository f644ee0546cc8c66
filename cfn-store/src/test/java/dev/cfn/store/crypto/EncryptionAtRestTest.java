package dev.cfn.store.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.store.HomeStores;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.DeadLetterRecord;
import dev.cfn.store.journal.Fixtures;
import dev.cfn.store.journal.JournalFiles;
import dev.cfn.store.journal.JournalReader;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encryption at rest end to end: a canary string written through every store (journal payloads,
 * pending, dead-lettered and sent as an effect; memory values; call-log results) is nowhere in the
 * raw files (databases, their write-ahead logs, backups) when a keyring is configured, and is there
 * without one, so the search is known to find it. Then: rotation keeps every record readable, and a
 * missing or wrong key is refused with its fix before anything is read or changed.
 */
class EncryptionAtRestTest {
  static final String CANARY = "CanaryQx7Zeta42";

  @TempDir Path tmp;

  Path cfn() {
    return tmp.resolve(".cfn");
  }

  Path keys() {
    return cfn().resolve("keys");
  }

  /** What the canary writes left: the journal's backup, plus every file under .cfn. */
  record Written(Path backup) {}

  Written writeCanaryEverywhere() throws Exception {
    Path journalFile = cfn().resolve("cfn.db");
    try (HomeStores stores = HomeStores.open(cfn())) {
      SqliteJournal journal = stores.journal();
      SqliteMemoryStore memory = stores.memory();
      SqliteCallLogStore calls = stores.calls();
      journal.append(Fixtures.message(1, "pending " + CANARY));
      Envelope handled = Fixtures.message(2, "handled " + CANARY);
      journal.append(handled);
      journal
          .acknowledge(handled, List.of(new Effect.Send(Fixtures.message(3, "outbox " + CANARY))))
          .join();
      Envelope dead = Fixtures.message(4, "dead " + CANARY);
      journal.append(dead);
      journal.deadLetter(dead, 3, "gave up").join();
      journal.deadLetter(Fixtures.message(5, "never journaled " + CANARY), 1, "refused").join();
      memory.put(MemoryAccessor.operator(), "notes", "plan", "value " + CANARY);
      calls.record("call-1", "{\"answer\":\"" + CANARY + "\"}");
      Path backup = cfn().resolve("backups").resolve("cfn-backup.db");
      Files.createDirectories(backup.getParent());
      journal.backupTo(backup);
      JournalFiles.backup(journalFile, cfn().resolve("backups").resolve("second.db"));
      return new Written(backup);
    }
  }

  /** Every file under .cfn holding the canary in any case (the full-text index lowercases it). */
  List<String> canaryHits() throws IOException {
    return Fixtures.filesHolding(cfn(), CANARY, CANARY.toLowerCase(Locale.ROOT), "Qx7Zeta");
  }

  List<String> canaryHitsWhileOpen() throws Exception {
    try (HomeStores stores = HomeStores.open(cfn())) {
      SqliteJournal journal = stores.journal();
      SqliteMemoryStore memory = stores.memory();
      SqliteCallLogStore calls = stores.calls();
      journal.append(Fixtures.message(10, "again " + CANARY));
      memory.put(MemoryAccessor.operator(), "notes", "plan2", "again " + CANARY);
      calls.record("call-2", "{\"again\":\"" + CANARY + "\"}");
      assertThat(Files.exists(cfn().resolve("cfn.db-wal"))).isTrue();
      return canaryHits();
    }
  }

  void assertEverythingReadsBack() throws Exception {
    try (HomeStores stores = HomeStores.open(cfn())) {
      SqliteJournal journal = stores.journal();
      SqliteMemoryStore memory = stores.memory();
      SqliteCallLogStore calls = stores.calls();
      assertThat(journal.recover().stream().map(e -> e.envelope().payload()))
          .contains("pending " + CANARY, "outbox " + CANARY);
      assertThat(journal.deadLetterQueue().list().stream().map(d -> d.envelope().payload()))
          .containsExactlyInAnyOrder("dead " + CANARY, "never journaled " + CANARY);
      assertThat(memory.get(MemoryAccessor.operator(), "notes", "plan").map(MemoryEntry::value))
          .contains("value " + CANARY);
      assertThat(calls.find("call-1")).contains("{\"answer\":\"" + CANARY + "\"}");
    }
  }

  @Test
  void withAKeyringTheCanaryIsInNoRawFileAndReadsBack() throws Exception {
    Keyring.init(keys(), Map.of()).close();
    Written w = writeCanaryEverywhere();
    assertThat(canaryHits()).isEmpty();
    assertThat(canaryHitsWhileOpen()).isEmpty();
    assertEverythingReadsBack();
    // a backup reads back with the keyring beside the journal
    try (JournalReader reader = SqliteJournal.openReadOnly(w.backup())) {
      assertThat(reader.deadLetters()).extracting(DeadLetterRecord::envelope).hasSize(2);
    }
    // sealed values are not in the full-text index; keys and tags still are
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(cfn().resolve("memory.db"))) {
      assertThat(memory.search(MemoryAccessor.operator(), CANARY, null, 10)).isEmpty();
      assertThat(memory.search(MemoryAccessor.operator(), "plan*", null, 10)).hasSize(2);
      assertThat(memory.check().ok()).isTrue();
    }
    assertThat(JournalFiles.check(cfn().resolve("cfn.db")).ok()).isTrue();
  }

  @Test
  void withoutAKeyringTheSameSearchFindsTheCanary() throws Exception {
    writeCanaryEverywhere();
    List<String> hits = canaryHits();
    assertThat(hits)
        .anyMatch(h -> h.startsWith("cfn.db"))
        .anyMatch(h -> h.startsWith("memory.db"))
        .anyMatch(h -> h.startsWith("calls.db"))
        .anyMatch(h -> h.startsWith("backups"));
    assertThat(canaryHitsWhileOpen()).anyMatch(h -> h.contains("-wal"));
    assertEverythingReadsBack();
  }

  @Test
  void rotationLosesNoRecordAndOldRecordsStayReadable() throws Exception {
    Keyring.init(keys(), Map.of()).close();
    writeCanaryEverywhere();
    try (Keyring ring = Keyring.open(keys(), Map.of())) {
      Keyring.Rotation r = ring.rotate();
      assertThat(r.dataKeysRewrapped()).isEqualTo(3);
    }
    assertEverythingReadsBack();
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(cfn().resolve("memory.db"))) {
      memory.put(MemoryAccessor.operator(), "notes", "after", "after rotation");
    }
    try (Keyring ring = Keyring.open(keys(), Map.of())) {
      ring.rotate();
    }
    assertEverythingReadsBack();
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(cfn().resolve("memory.db"))) {
      assertThat(memory.get(MemoryAccessor.operator(), "notes", "after").map(MemoryEntry::value))
          .contains("after rotation");
    }
    assertThat(canaryHits()).isEmpty();
  }

  @Test
  void recordsWrittenBeforeTheKeyringStayReadableAndNewOnesAreSealed() throws Exception {
    Path file = cfn().resolve("memory.db");
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file)) {
      memory.put(MemoryAccessor.operator(), "n", "old", "plain before");
    }
    Keyring.init(keys(), Map.of()).close();
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(file)) {
      assertThat(memory.get(MemoryAccessor.operator(), "n", "old").map(MemoryEntry::value))
          .contains("plain before");
      memory.put(MemoryAccessor.operator(), "n", "new", "sealed " + CANARY);
      assertThat(memory.search(MemoryAccessor.operator(), "before", null, 10)).hasSize(1);
      assertThat(memory.check().ok()).isTrue();
    }
    assertThat(canaryHits()).isEmpty();
  }

  @Test
  void aMissingKeyIsRefusedWithItsFixAndNothingChanges() throws Exception {
    Keyring.init(keys(), Map.of()).close();
    writeCanaryEverywhere();
    Path aside = tmp.resolve("keys-aside");
    Files.move(keys(), aside);
    Map<String, String> before = digests();
    assertThatThrownBy(() -> SqliteJournal.builder(cfn().resolve("cfn.db")).open())
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("cfn.db is encrypted")
        .hasMessageContaining("no keyring is configured")
        .hasMessageContaining("(fix: set CFN_MASTER_KEY");
    assertThatThrownBy(() -> SqliteJournal.openReadOnly(cfn().resolve("cfn.db")))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("is encrypted");
    assertThatThrownBy(() -> SqliteMemoryStore.open(cfn().resolve("memory.db")))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("memory.db is encrypted");
    assertThatThrownBy(() -> SqliteCallLogStore.open(cfn().resolve("calls.db")))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("calls.db is encrypted");
    assertThat(digests()).isEqualTo(before);
    // the keys back: all is there
    Files.move(aside, keys());
    assertEverythingReadsBack();
  }

  @Test
  void aWrongMasterKeyOrAnotherKeyringIsRefusedWithItsFixAndNothingChanges() throws Exception {
    Keyring.init(keys(), Map.of()).close();
    writeCanaryEverywhere();
    Map<String, String> before = digests();
    String wrong = Base64.getEncoder().encodeToString(Gcm.newKey());
    Map<String, String> env = Map.of(Keyring.MASTER_KEY_ENV, wrong);
    assertThatThrownBy(() -> AtRest.discover(keys(), "journal", env))
        .isInstanceOf(KeyringException.class)
        .hasMessageContaining("wrong master key")
        .hasMessageContaining("fix:");
    // another keyring (a new one made elsewhere, copied beside the file)
    Path other = tmp.resolve("other").resolve("keys");
    Keyring.init(other, Map.of()).close();
    for (String store : List.of("journal", "memory", "calls")) {
      Path file =
          cfn()
              .resolve(
                  Map.of("journal", "cfn.db", "memory", "memory.db", "calls", "calls.db")
                      .get(store));
      try (AtRest foreign = AtRest.discover(other, store, Map.of())) {
        assertThatThrownBy(
                () -> {
                  switch (store) {
                    case "journal" -> SqliteJournal.builder(file).atRest(foreign).open().close();
                    case "memory" -> SqliteMemoryStore.builder(file).atRest(foreign).open().close();
                    default -> SqliteCallLogStore.builder(file).atRest(foreign).open().close();
                  }
                })
            .isInstanceOf(KeyringException.class)
            .hasMessageContaining("was encrypted with another keyring")
            .hasMessageContaining("fix:");
      }
    }
    assertThat(digests()).isEqualTo(before);
    assertEverythingReadsBack();
  }

  @Test
  void aSealedRecordDoesNotOpenInAnotherPlace() throws Exception {
    Keyring.init(keys(), Map.of()).close();
    try (AtRest atRest = AtRest.beside(cfn().resolve("x.db"), "journal")) {
      byte[] sealed = atRest.seal("secret".getBytes(StandardCharsets.UTF_8), AtRest.aad("a", "1"));
      assertThat(RecordCipher.isSealed(sealed)).isTrue();
      assertThat(atRest.open(sealed, AtRest.aad("a", "1"), () -> "r"))
          .isEqualTo("secret".getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> atRest.open(sealed, AtRest.aad("a", "2"), () -> "record r"))
          .isInstanceOf(KeyringException.class)
          .hasMessageContaining("record r")
          .hasMessageContaining("fails authentication");
      // plain JSON passes through: records from before the keyring
      byte[] json = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
      assertThat(atRest.open(json, AtRest.aad("a", "1"), () -> "r")).isSameAs(json);
      String text = atRest.sealText("{\"b\":2}", AtRest.aad("k"));
      assertThat(text).startsWith(AtRest.TEXT_MARK).doesNotContain("\"b\"");
      assertThat(atRest.openText(text, AtRest.aad("k"), () -> "r")).isEqualTo("{\"b\":2}");
    }
    try (AtRest plain = AtRest.plain("journal")) {
      byte[] sealedElsewhere;
      try (AtRest atRest = AtRest.beside(cfn().resolve("x.db"), "journal")) {
        sealedElsewhere = atRest.seal(new byte[] {1, 2, 3}, AtRest.aad("a"));
      }
      assertThatThrownBy(() -> plain.open(sealedElsewhere, AtRest.aad("a"), () -> "payload p"))
          .isInstanceOf(KeyringException.class)
          .hasMessageContaining("payload p is encrypted and no keyring is configured");
    }
  }

  @Test
  void closingErasesTheKeysHeld() {
    try (Keyring ring = Keyring.init(keys(), Map.of())) {
      RecordCipher cipher = ring.cipher("journal");
      byte[] sealed = cipher.encrypt(new byte[] {7}, new byte[0]);
      cipher.close();
      assertThatThrownBy(() -> cipher.encrypt(new byte[] {7}, new byte[0]))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("erased");
      assertThatThrownBy(() -> cipher.decrypt(sealed, new byte[0]))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  private Map<String, String> digests() throws Exception {
    Map<String, String> out = new TreeMap<>();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (Stream<Path> files = Files.walk(tmp)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".lock")
            || name.endsWith("-shm")
            || (name.endsWith("-wal") && Files.size(f) == 0)
            || f.startsWith(tmp.resolve("other"))) {
          continue; // a reader's empty WAL and index, the other keyring this test makes
        }
        out.put(
            tmp.relativize(f).toString(),
            HexFormat.of().formatHex(sha.digest(Files.readAllBytes(f))));
      }
    }
    return out;
  }
}
