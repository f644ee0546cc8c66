package dev.cfn.store.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.Envelope;
import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.JournalException;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.store.HomeStores;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.journal.Fixtures;
import dev.cfn.store.journal.JournalFiles;
import dev.cfn.store.journal.JournalReader;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.store.memory.SqliteMemoryStore;
import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code cfn keys seal-existing} in cfn-store: a canary written through every store before the
 * keyring existed (journal payloads pending, dead-lettered and sent as effects, journal call
 * results, memory values and their full-text index, call-log results, a single-file journal backup,
 * deleted records in free pages) is in the raw files before, and in none after; every record reads
 * back. Bad input changes nothing; a SIGKILL at each step leaves the old file or the new one whole,
 * and a second run finishes the work.
 */
class SealExistingTest {
  static final String CANARY = "SealCanaryVx93Kappa";

  @TempDir Path tmp;

  Path cfn() {
    return tmp.resolve(".cfn");
  }

  Path keys() {
    return cfn().resolve("keys");
  }

  /** Writes the canary everywhere with no keyring, then makes the keyring. */
  void writePlainThenInitKeyring() throws Exception {
    Files.createDirectories(cfn());
    try (HomeStores stores = HomeStores.open(cfn())) {
      SqliteJournal journal = stores.journal();
      SqliteMemoryStore memory = stores.memory();
      SqliteCallLogStore calls = stores.calls();
      journal.append(Fixtures.message(1, "pending " + CANARY));
      Envelope handled = Fixtures.message(2, "handled " + CANARY);
      journal.append(handled);
      journal
          .acknowledge(
              handled,
              List.of(
                  new Effect.Send(Fixtures.message(3, "outbox " + CANARY)),
                  new Effect.RecordCall("call-j", "{\"j\":\"" + CANARY + "\"}")))
          .join();
      Envelope dead = Fixtures.message(4, "dead " + CANARY);
      journal.append(dead);
      journal.deadLetter(dead, 3, "gave up").join();
      memory.put(MemoryAccessor.operator(), "notes", "plan", "value " + CANARY);
      memory.put(MemoryAccessor.operator(), "notes", "gone", "deleted " + CANARY);
      memory.delete(MemoryAccessor.operator(), "notes", "gone");
      calls.record("call-1", "{\"answer\":\"" + CANARY + "\"}");
      Files.createDirectories(cfn().resolve("backups"));
      journal.backupTo(cfn().resolve("backups").resolve("before.db"));
    }
    Keyring.init(keys(), Map.of()).close();
    // the stores open with the keyring: files marked, new records sealed, old ones still plain
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(cfn().resolve("memory.db"))) {
      memory.put(MemoryAccessor.operator(), "notes", "after", "sealed from the start");
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
          .containsExactly("dead " + CANARY);
      assertThat(memory.get(MemoryAccessor.operator(), "notes", "plan").map(MemoryEntry::value))
          .contains("value " + CANARY);
      assertThat(memory.get(MemoryAccessor.operator(), "notes", "after").map(MemoryEntry::value))
          .contains("sealed from the start");
      assertThat(memory.check().ok()).isTrue();
      assertThat(calls.find("call-1")).contains("{\"answer\":\"" + CANARY + "\"}");
    }
    try (JournalReader backup =
        SqliteJournal.openReadOnly(cfn().resolve("backups").resolve("before.db"))) {
      assertThat(backup.deadLetters()).hasSize(1);
    }
    assertThat(JournalFiles.check(cfn().resolve("cfn.db")).ok()).isTrue();
  }

  /** Every file under .cfn holding the canary, in any case (the full-text index lowercases). */
  List<String> canaryHits() throws IOException {
    return Fixtures.filesHolding(cfn(), CANARY, CANARY.toLowerCase(Locale.ROOT), "Vx93Kappa");
  }

  @Test
  void afterARunTheCanaryIsInNoFileAndEveryRecordReadsBack() throws Exception {
    writePlainThenInitKeyring();
    assertThat(canaryHits())
        .contains("cfn.db", "memory.db", "calls.db", "backups/before.db".replace('/', sep()));

    SealExisting.Report report;
    try (Keyring ring = Keyring.open(keys(), Map.of())) {
      SealExisting.Plan plan = SealExisting.plan(cfn(), ring);
      assertThat(plan.toSeal(false)).hasSize(4);
      report = SealExisting.run(cfn(), ring, false, SealExisting.Listener.none());
    }
    assertThat(report.sealed())
        .extracting(SealExisting.Sealed::store)
        .containsExactlyInAnyOrder("journal", "journal", "memory", "calls");
    // pending 1 and 3, dead 4, call-j (journal); the same in the backup, less the acknowledged
    assertThat(report.sealed())
        .filteredOn(s -> s.file().equals(cfn().resolve("memory.db")))
        .singleElement()
        .satisfies(s -> assertThat(s.recordsSealed()).isEqualTo(1))
        .satisfies(s -> assertThat(s.sealedRecords()).isEqualTo(2));
    assertThat(canaryHits()).as("files holding the canary after sealing").isEmpty();
    assertEverythingReadsBack();
    assertThat(canaryHits()).as("and after the stores opened them again").isEmpty();

    // nothing left to do: a second plan finds every file sealed
    try (Keyring ring = Keyring.open(keys(), Map.of())) {
      assertThat(SealExisting.plan(cfn(), ring).toSeal(false)).isEmpty();
      // force rewrites them anyway, and they still read back
      assertThat(SealExisting.run(cfn(), ring, true, SealExisting.Listener.none()).sealed())
          .hasSize(4)
          .allSatisfy(s -> assertThat(s.recordsSealed()).isZero());
    }
    assertEverythingReadsBack();
  }

  private static char sep() {
    return java.io.File.separatorChar;
  }

  @Test
  void refusedWhileANodeHoldsTheLockAndNothingChanges() throws Exception {
    writePlainThenInitKeyring();
    List<String> before = canaryHits();
    try (SqliteJournal running = SqliteJournal.builder(cfn().resolve("cfn.db")).open();
        Keyring ring = Keyring.open(keys(), Map.of())) {
      assertThatThrownBy(() -> SealExisting.run(cfn(), ring, false, SealExisting.Listener.none()))
          .isInstanceOf(JournalException.class)
          .hasMessageContaining("while a node runs on them")
          .hasMessageContaining("nothing was changed")
          .hasMessageContaining("fix: stop cfn serve");
    }
    assertThat(canaryHits()).isEqualTo(before);
  }

  @Test
  void aWrongMasterKeyOrAnotherKeyringIsRefusedBeforeAnythingChanges() throws Exception {
    writePlainThenInitKeyring();
    List<String> before = canaryHits();
    String wrong = Base64.getEncoder().encodeToString(new byte[32]);
    try (Keyring ring = Keyring.open(keys(), Map.of(Keyring.MASTER_KEY_ENV, wrong))) {
      assertThatThrownBy(() -> SealExisting.run(cfn(), ring, false, SealExisting.Listener.none()))
          .isInstanceOf(KeyringException.class)
          .hasMessageContaining("wrong master key");
    }
    // another keyring altogether: the marked memory file is refused
    Path other = tmp.resolve("other-keys");
    try (Keyring ring = Keyring.init(other, Map.of())) {
      assertThatThrownBy(() -> SealExisting.run(cfn(), ring, false, SealExisting.Listener.none()))
          .isInstanceOf(KeyringException.class)
          .hasMessageContaining("another keyring");
    }
    assertThat(canaryHits()).isEqualTo(before);
  }

  @Test
  void aMissingHomeIsRefused() {
    try (Keyring ring = Keyring.init(tmp.resolve("k"), Map.of())) {
      assertThatThrownBy(
              () ->
                  SealExisting.run(
                      tmp.resolve("nope/.cfn"), ring, false, SealExisting.Listener.none()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no .cfn folder at")
          .hasMessageContaining("--home");
    }
    assertThat(tmp.resolve("nope")).doesNotExist();
  }

  /**
   * A child JVM seals the home and stops at {@code stage} of {@code memory.db}; it is killed there
   * with SIGKILL. The memory file is then whole: every entry reads back, plain before the swap and
   * sealed after it; a second run removes the leftovers and seals what is left.
   */
  @ParameterizedTest
  @EnumSource(SealExisting.Stage.class)
  void aSigkillAtEachStepLeavesTheOldFileOrTheNewOneWhole(SealExisting.Stage stage)
      throws Exception {
    writePlainThenInitKeyring();
    try (ChildJvm child =
        ChildJvm.start(SealChild.class, cfn().toString(), stage.name(), "memory.db")) {
      assertThat(child.readLine()).as("the child reached the step").isEqualTo("AT " + stage);
      // SIGKILL while it waits at that step
      assertThat(child.kill()).as("the child died").isTrue();
      assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(ChildJvm.SIGKILLED);
    }

    boolean memoryPlain = canaryHits().contains("memory.db");
    assertThat(memoryPlain)
        .as("memory.db is the old plain file before the swap, the sealed one after")
        .isEqualTo(stage != SealExisting.Stage.SWAPPED);
    try (SqliteMemoryStore memory = SqliteMemoryStore.open(cfn().resolve("memory.db"))) {
      assertThat(memory.get(MemoryAccessor.operator(), "notes", "plan").map(MemoryEntry::value))
          .contains("value " + CANARY);
      assertThat(memory.check().ok()).isTrue();
    }

    try (Keyring ring = Keyring.open(keys(), Map.of())) {
      SealExisting.Report again =
          SealExisting.run(cfn(), ring, false, SealExisting.Listener.none());
      assertThat(again.leftoversRemoved())
          .as("hidden copies the kill left")
          .isEqualTo(stage == SealExisting.Stage.SWAPPED ? 0 : 1);
    }
    assertThat(canaryHits()).isEmpty();
    assertEverythingReadsBack();
  }
}
