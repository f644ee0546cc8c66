package dev.cfn.certify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check 9 on cfn's three stores, and on stores broken on purpose: one that loses its last write,
 * one whose check sees nothing, one whose file is damaged before the read-back.
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
        new IntegrityCheck(IntegrityCheck.sqliteStores())
            .run(TestProfiles.context(TestProfiles.tiny(), work));
    assertThat(r.passed()).as(r.verdict()).isTrue();
    assertThat(r.measured()).isEqualTo(100.0);
    assertThat(r.figures()).containsEntry("written", 150L).containsEntry("intact", 150L);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> stores = (List<Map<String, Object>>) r.figures().get("stores");
    assertThat(stores).hasSize(3);
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

  @Test
  void failsWhenAStoreDoesNotDetectDamage() throws Exception {
    StoreSubject blind =
        new Delegate(new StoreSubject.MemoryStore()) {
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

  @Test
  void failsWhenTheLiveFileIsDamagedBeforeTheReadBack() throws Exception {
    StoreSubject damaged =
        new Delegate(new StoreSubject.CallLogStore()) {
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
  }
}
