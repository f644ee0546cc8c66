package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Check 9 on cfn's stores (journal, memory, call log, token file with tokens and with client
 * certificates, audit log), and on stores broken on purpose: one that loses its last write, ones
 * whose check sees nothing, ones whose file is damaged before the read-back.
 */
@Timeout(300)
class IntegrityCheckTest {
  @TempDir Path work;

  /** Passes every call to a real store; subclasses break one thing. */
  static class Delegate implements StoreSubject {
    final StoreSubject real;

    Delegate(StoreSubject real) {
      this.real = real;
    }

    @Override
    public String name() {
      return real.name();
    }

    @Override
    public Path file(Path dir) {
      return real.file(dir);
    }

    @Override
    public Path copy(Path file, Path copyDir) throws java.io.IOException {
      return real.copy(file, copyDir);
    }

    @Override
    public void open(Path file) {
      real.open(file);
    }

    @Override
    public void write(int i, String value) {
      real.write(i, value);
    }

    @Override
    public Optional<String> read(int i) {
      return real.read(i);
    }

    @Override
    public List<String> check() {
      return real.check();
    }

    @Override
    public void close() {
      real.close();
    }
  }

  private CheckResult run(List<StoreSubject> stores) throws Exception {
    return new IntegrityCheck(() -> stores).run(TestProfiles.context(TestProfiles.tiny(), work));
  }

  @Test
  void everyStoreReadsBackEveryRecordAndDetectsAFlippedByte() throws Exception {
    CheckResult r =
        new IntegrityCheck(IntegrityCheck.cfnStores())
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).as(r.verdict()).isTrue();
    assertThat(r.measured()).isEqualTo(100.0);
    assertThat(r.figures()).containsEntry("written", 300L).containsEntry("intact", 300L);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> stores = (List<Map<String, Object>>) r.figures().get("stores");
    assertThat(stores)
        .extracting(s -> s.get("store"))
        .containsExactly(
            "journal (SqliteJournal)",
            "memory (SqliteMemoryStore)",
            "call log (SqliteCallLogStore)",
            "tokens (TokenStore)",
            "client certificates (TokenStore)",
            "audit log (AuditLog)");
    for (Map<String, Object> s : stores) {
      assertThat((String) s.get("flippedByte"))
          .as(s.get("store").toString())
          .startsWith("detected");
    }
  }

  @Test
  void failsWhenAStoreLosesItsLastCommit() throws Exception {
    int last = TestProfiles.tiny().integrityRecords() - 1;
    StoreSubject losing =
        new Delegate(new StoreSubject.JournalStore()) {
          @Override
          public void write(int i, String value) {
            if (i != last) {
              real.write(i, value);
            }
          }
        };
    CheckResult r = run(List.of(losing));
    assertThat(r.passed()).isFalse();
    assertThat(r.figures()).containsEntry("intact", 49L);
    assertThat(r.verdict()).contains("record 49 is missing");
  }

  /** The token file's and the audit log's damage is found by the product's own check. */
  @Test
  void theTokenFileAndTheAuditLogReportTheFlippedByteThroughTheirOwnCheck() throws Exception {
    CheckResult r = run(List.of(new StoreSubject.TokenFile(), new StoreSubject.AuditTrail()));
    assertThat(r.passed()).as(r.verdict()).isTrue();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> stores = (List<Map<String, Object>>) r.figures().get("stores");
    assertThat((String) stores.get(0).get("flippedByte"))
        .startsWith("detected: api_tokens: record 'tok_")
        .contains("fails its checksum");
    assertThat((String) stores.get(1).get("flippedByte")).startsWith("detected: ");
  }

  /** A flipped byte in a client-certificate record of the token file is found by its check. */
  @Test
  void theTokenFileReportsAFlippedByteInAClientCertificateRecord() throws Exception {
    CheckResult r = run(List.of(new StoreSubject.CertificateFile()));
    assertThat(r.passed()).as(r.verdict()).isTrue();
    assertThat(r.figures()).containsEntry("intact", 50L);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> stores = (List<Map<String, Object>>) r.figures().get("stores");
    assertThat((String) stores.get(0).get("flippedByte"))
        .startsWith("detected: client_certs: record 'crt_")
        .contains("fails its checksum");
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "tokens", "certificates", "audit"})
  void failsWhenAStoreDoesNotDetectDamage(String which) throws Exception {
    StoreSubject real =
        switch (which) {
          case "memory" -> new StoreSubject.MemoryStore();
          case "tokens" -> new StoreSubject.TokenFile();
          case "certificates" -> new StoreSubject.CertificateFile();
          default -> new StoreSubject.AuditTrail();
        };
    StoreSubject blind =
        new Delegate(real) {
          @Override
          public List<String> check() {
            return List.of();
          }
        };
    CheckResult r = run(List.of(blind));
    assertThat(r.passed()).isFalse();
    assertThat(r.measured()).isEqualTo(100.0);
    assertThat(r.verdict()).contains("damage NOT detected");
  }

  @ParameterizedTest
  @ValueSource(strings = {"calls", "tokens", "audit"})
  void failsWhenTheLiveFileIsDamagedBeforeTheReadBack(String which) throws Exception {
    StoreSubject real =
        switch (which) {
          case "calls" -> new StoreSubject.CallLogStore();
          case "tokens" -> new StoreSubject.TokenFile();
          default -> new StoreSubject.AuditTrail();
        };
    StoreSubject damaged =
        new Delegate(real) {
          int opens;

          @Override
          public void open(Path file) {
            if (++opens == 2) {
              try {
                IntegrityCheck.flip(file, "-0000010");
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            }
            real.open(file);
          }
        };
    CheckResult r = run(List.of(damaged));
    assertThat(r.passed()).isFalse();
    assertThat(r.verdict()).contains("problems");
    assertThat(r.measured()).as("the damaged record does not read back").isLessThan(100);
  }

  /**
   * A store that refuses to open any copy, damaged or not: its refusal of the flipped copy is not
   * counted as detection (the undamaged copy is the control), so the check fails.
   */
  @Test
  void aRefusalThatTheUndamagedCopyGetsTooIsNotDetection() throws Exception {
    StoreSubject real = new StoreSubject.MemoryStore();
    StoreSubject refusesCopies =
        new Delegate(real) {
          Path live;

          @Override
          public void open(Path file) {
            if (live == null) {
              live = file;
            }
            if (!file.equals(live)) {
              throw new IllegalStateException("cannot open " + file + " (not the live file)");
            }
            real.open(file);
          }
        };
    CheckResult r = run(List.of(refusesCopies));
    assertThat(r.passed()).isFalse();
    assertThat(r.verdict())
        .contains("damage NOT detected")
        .contains("not tested: the undamaged copy did not open either");
  }
}
