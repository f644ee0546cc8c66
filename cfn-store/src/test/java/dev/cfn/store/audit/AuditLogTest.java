package dev.cfn.store.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.store.audit.AuditEvent.Outcome;
import dev.cfn.store.crypto.SigningKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  @TempDir Path home;

  Path cfn() {
    return home.resolve(".cfn");
  }

  Path logFile() {
    return cfn().resolve("audit").resolve("audit.log");
  }

  Path headFile() {
    return cfn().resolve("audit").resolve("audit.head");
  }

  static AuditEvent event(int i) {
    return new AuditEvent(
        Instant.ofEpochSecond(1_800_000_000L + i, i),
        "token:t" + (i % 7),
        i % 3 == 0 ? "auth.failure" : "agent.spawn",
        "agent/worker-" + i,
        Outcome.values()[i % 3],
        Map.of("route", "/agents", "n", Integer.toString(i)));
  }

  /** A log of {@code n} events, checkpoint every {@code every}, closed (so its tail is signed). */
  void writeLog(int n, int every) {
    try (AuditLog log =
        AuditLog.builder(cfn()).checkpointEvery(every).checkpointInterval(Duration.ZERO).open()) {
      for (int i = 0; i < n; i++) {
        log.append(event(i));
      }
    }
  }

  /** The entries' byte ranges in a log: [offset, end) per entry, in order. */
  static List<int[]> ranges(byte[] log) throws Exception {
    AuditFormat.Header h = AuditFormat.parseHeader(log);
    AuditFormat.Reader r = new AuditFormat.Reader(log, log.length, h.length(), 1, h.hash());
    List<int[]> out = new ArrayList<>();
    for (AuditFormat.Entry e = r.next(); e != null; e = r.next()) {
      out.add(new int[] {(int) e.offset(), r.offset()});
    }
    return out;
  }

  static byte[] without(byte[] b, int from, int to) {
    byte[] out = new byte[b.length - (to - from)];
    System.arraycopy(b, 0, out, 0, from);
    System.arraycopy(b, to, out, from, b.length - to);
    return out;
  }

  static byte[] inserted(byte[] b, int at, byte[] what) {
    byte[] out = new byte[b.length + what.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(what, 0, out, at, what.length);
    System.arraycopy(b, at, out, at + what.length, b.length - at);
    return out;
  }

  @Test
  void appendsVerifiesAndTails() {
    AuditEntry first;
    try (AuditLog log = AuditLog.open(cfn())) {
      first = log.append(event(1));
      log.append(event(2));
      assertThat(first.seq()).isEqualTo(1);
      assertThat(log.tail(1)).extracting(AuditEntry::seq).containsExactly(2L);
      AuditReport open = log.verify();
      assertThat(open.ok()).as(open.problem()).isTrue();
      assertThat(open.unsigned()).isEqualTo(2); // nothing signed yet
    }
    AuditReport r = AuditLog.verify(cfn(), null);
    assertThat(r.ok()).as(r.problem()).isTrue();
    assertThat(r.events()).isEqualTo(2);
    assertThat(r.checkpoints()).isEqualTo(1); // close signs
    assertThat(r.unsigned()).isZero();
    assertThat(r.signedThrough()).isEqualTo(3);
    List<AuditEntry> all = AuditLog.tail(cfn(), 10);
    assertThat(all).hasSize(2);
    assertThat(all.get(0).event()).isEqualTo(event(1));
    assertThat(all.get(0).hash()).isEqualTo(first.hash());
    // reopened, it continues the same chain
    try (AuditLog log = AuditLog.open(cfn())) {
      assertThat(log.append(event(3)).seq()).isEqualTo(4);
    }
    assertThat(AuditLog.verify(cfn(), null).ok()).isTrue();
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void everySingleByteChangeOfAThousandEntryLogIsDetected() throws Exception {
    writeLog(1000, 100);
    byte[] log = Files.readAllBytes(logFile());
    byte[] head = Files.readAllBytes(headFile());
    AuditReport clean = AuditVerifier.verify(log, head, null);
    assertThat(clean.ok()).as(clean.problem()).isTrue();
    assertThat(clean.events()).isEqualTo(1000);
    assertThat(clean.checkpoints()).isEqualTo(10);

    byte[] copy = log.clone();
    List<Integer> missed = new ArrayList<>();
    for (int i = 0; i < copy.length; i++) {
      byte was = copy[i];
      copy[i] = (byte) (was ^ (1 << (i % 8))); // one bit, a different one from byte to byte
      if (AuditVerifier.verify(copy, head, null).ok()) {
        missed.add(i);
      }
      copy[i] = was;
    }
    assertThat(missed).as("byte positions whose change went unnoticed").isEmpty();

    byte[] headCopy = head.clone();
    for (int i = 0; i < headCopy.length; i++) {
      byte was = headCopy[i];
      headCopy[i] = (byte) (was ^ 0xFF);
      AuditReport r = AuditVerifier.verify(log, headCopy, null);
      assertThat(r.ok()).as("head byte %d", i).isFalse();
      headCopy[i] = was;
    }
  }

  @Test
  void namesTheFirstBadEntryOfAChange() throws Exception {
    writeLog(50, 10);
    byte[] log = Files.readAllBytes(logFile());
    List<int[]> at = ranges(log);
    byte[] copy = log.clone();
    copy[at.get(19)[0] + 30] ^= 1; // inside entry 20's body
    AuditReport r = AuditVerifier.verify(copy, Files.readAllBytes(headFile()), null);
    assertThat(r.ok()).isFalse();
    assertThat(r.badEntry()).isEqualTo(20);
    assertThat(r.badOffset()).isEqualTo(at.get(19)[0]);
    assertThat(r.problem()).contains("entry 20").contains("was changed");
    assertThat(r.entries()).isEqualTo(19);
  }

  @Test
  void detectsDeletionInsertionReorderingAndTruncation() throws Exception {
    writeLog(100, 10); // 100 events, checkpoints at 11, 22, ..., 110 (close adds none: all signed)
    byte[] log = Files.readAllBytes(logFile());
    byte[] head = Files.readAllBytes(headFile());
    List<int[]> at = ranges(log);
    assertThat(at).hasSize(110);

    // deletion of one whole entry
    AuditReport deleted =
        AuditVerifier.verify(without(log, at.get(40)[0], at.get(40)[1]), head, null);
    assertThat(deleted.ok()).isFalse();
    assertThat(deleted.badEntry()).isEqualTo(41);
    assertThat(deleted.problem()).contains("numbered 42");

    // insertion: a copy of entry 30 again after it
    byte[] dup = Arrays.copyOfRange(log, at.get(29)[0], at.get(29)[1]);
    AuditReport ins = AuditVerifier.verify(inserted(log, at.get(29)[1], dup), head, null);
    assertThat(ins.ok()).isFalse();
    assertThat(ins.badEntry()).isEqualTo(31);

    // reordering: entries 50 and 51 swapped
    byte[] a = Arrays.copyOfRange(log, at.get(49)[0], at.get(49)[1]);
    byte[] b = Arrays.copyOfRange(log, at.get(50)[0], at.get(50)[1]);
    byte[] swapped = log.clone();
    System.arraycopy(b, 0, swapped, at.get(49)[0], b.length);
    System.arraycopy(a, 0, swapped, at.get(49)[0] + b.length, a.length);
    AuditReport re = AuditVerifier.verify(swapped, head, null);
    assertThat(re.ok()).isFalse();
    assertThat(re.badEntry()).isEqualTo(50);

    // truncation at an entry boundary, removing signed entries: the head vouches for 110
    AuditReport cut = AuditVerifier.verify(Arrays.copyOf(log, at.get(99)[1]), head, null);
    assertThat(cut.ok()).isFalse();
    assertThat(cut.problem()).contains("removed from its end").contains("101 to 110");

    // truncation inside an entry
    AuditReport torn = AuditVerifier.verify(Arrays.copyOf(log, at.get(105)[0] + 7), head, null);
    assertThat(torn.ok()).isFalse();
    assertThat(torn.problem()).contains("ends inside entry 106");

    // the head file deleted
    AuditReport noHead = AuditVerifier.verify(log, null, null);
    assertThat(noHead.ok()).isFalse();
    assertThat(noHead.problem()).contains("head file is missing");

    // everything truncated to the header, with the head deleted too: still found? No: a bare
    // header is a valid empty log (documented limit 2: a rollback to an earlier signed state)
    assertThat(AuditVerifier.verify(Arrays.copyOf(log, at.get(0)[0]), null, null).ok()).isTrue();
  }

  @Test
  void aConsistentRewriteOfSignedEntriesFailsTheSignature() throws Exception {
    writeLog(30, 10);
    byte[] log = Files.readAllBytes(logFile());
    byte[] head = Files.readAllBytes(headFile());
    List<int[]> at = ranges(log);
    AuditFormat.Header h = AuditFormat.parseHeader(log);
    // an attacker without the key changes entry 5 and recomputes every hash after it, keeping
    // each checkpoint's body (a checkpoint cannot be re-signed)
    AuditFormat.Reader r = new AuditFormat.Reader(log, log.length, h.length(), 1, h.hash());
    List<AuditFormat.Entry> entries = new ArrayList<>();
    for (AuditFormat.Entry e = r.next(); e != null; e = r.next()) {
      entries.add(e);
    }
    ByteBuffer forged = ByteBuffer.allocate(log.length + 100);
    forged.put(log, 0, h.length());
    byte[] prev = h.hash();
    for (AuditFormat.Entry e : entries) {
      byte[] rec;
      if (e.event() != null) {
        AuditEvent ev = e.seq() == 5 ? event(999) : e.event();
        rec = AuditFormat.eventRecord(e.seq(), prev, ev);
      } else {
        rec =
            AuditFormat.checkpointRecord(
                e.seq(), prev, e.time(), e.keyFingerprint(), e.signature());
      }
      forged.put(rec);
      prev = AuditFormat.hashOf(rec);
    }
    byte[] f = Arrays.copyOf(forged.array(), forged.position());
    assertThat(f.length).isNotEqualTo(0);
    AuditReport rep = AuditVerifier.verify(f, head, null);
    assertThat(rep.ok()).isFalse();
    assertThat(rep.badEntry()).isEqualTo(11); // the first checkpoint after entry 5
    assertThat(rep.problem()).contains("signature does not verify");
    assertThat(at).hasSize(33);
  }

  @Test
  void theUnsignedTailIsTheDocumentedLimit() throws Exception {
    try (AuditLog log =
        AuditLog.builder(cfn()).checkpointEvery(10).checkpointInterval(Duration.ZERO).open()) {
      for (int i = 0; i < 15; i++) {
        log.append(event(i));
      }
      byte[] bytes = Files.readAllBytes(logFile());
      byte[] head = Files.readAllBytes(headFile());
      List<int[]> at = ranges(bytes);
      AuditReport r = AuditVerifier.verify(bytes, head, null);
      assertThat(r.ok()).isTrue();
      assertThat(r.signedThrough()).isEqualTo(11);
      assertThat(r.unsigned()).isEqualTo(5);
      // cutting whole unsigned entries off the end is not detectable (the report says how many
      // entries no signature covers); a cut into the signed part is
      assertThat(AuditVerifier.verify(Arrays.copyOf(bytes, at.get(12)[1]), head, null).ok())
          .isTrue();
      assertThat(AuditVerifier.verify(Arrays.copyOf(bytes, at.get(9)[1]), head, null).ok())
          .isFalse();
    }
  }

  @Test
  void secretsAreRedactedBeforeTheyReachTheFile() throws Exception {
    String token = "q8Zk3vN0pL7xYc2RbT9mWf4Hs6Ju1AeGdKoVi5nPr0M"; // 43 chars: a 256-bit base64url
    try (AuditLog log = AuditLog.open(cfn())) {
      AuditEntry e =
          log.append(
              AuditEvent.now(
                  "token:abc123",
                  "auth.failure",
                  "/agents",
                  Outcome.DENIED,
                  Map.of(
                      "token", "whatever-it-is",
                      "tokenId", "abc123",
                      "header", "Authorization: Bearer " + token,
                      "note", "client sent " + token + " twice",
                      "sha256",
                          "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")));
      assertThat(e.event().detail())
          .containsEntry("token", "[redacted]")
          .containsEntry("tokenId", "abc123")
          .containsEntry("header", "Authorization: Bearer [redacted]")
          .containsEntry("note", "client sent [redacted] twice")
          .containsEntry(
              "sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    }
    String raw = new String(Files.readAllBytes(logFile()), StandardCharsets.ISO_8859_1);
    assertThat(raw).doesNotContain(token).doesNotContain("whatever-it-is").contains("abc123");
    assertThat(AuditLog.tail(cfn(), 1).getFirst().event().detail().get("token"))
        .isEqualTo("[redacted]");
  }

  @Test
  void badEventsAreRefused() {
    assertThatThrownBy(() -> AuditEvent.now("", "a.b", "", Outcome.SUCCESS, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("principal");
    assertThatThrownBy(() -> AuditEvent.now("p", "a\nb", "", Outcome.SUCCESS, Map.of()))
        .hasMessageContaining("control characters");
    assertThatThrownBy(
            () -> AuditEvent.now("p", "a", "", Outcome.SUCCESS, Map.of("k", "x".repeat(5000))))
        .hasMessageContaining("more than 4096");
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void concurrentAppendersAllLandOnceInOrder() throws Exception {
    int threads = 8;
    int each = 100;
    ConcurrentLinkedQueue<Long> seqs = new ConcurrentLinkedQueue<>();
    try (AuditLog log = AuditLog.builder(cfn()).checkpointEvery(64).open();
        ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  for (int i = 0; i < each; i++) {
                    seqs.add(log.append(event(id * 1000 + i)).seq());
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(1, TimeUnit.MINUTES);
      }
    }
    Set<Long> unique = new HashSet<>(seqs);
    assertThat(unique).hasSize(threads * each);
    AuditReport r = AuditLog.verify(cfn(), null);
    assertThat(r.ok()).as(r.problem()).isTrue();
    assertThat(r.events()).isEqualTo(threads * each);
    assertThat(r.unsigned()).isZero();
  }

  @Test
  void aTornLastEntryIsCutOffAndTheRepairLogged() throws Exception {
    writeLog(5, 100);
    byte[] log = Files.readAllBytes(logFile());
    // a crash in the middle of writing a sixth entry: half of a record appended
    byte[] half = Arrays.copyOf(AuditFormat.eventRecord(7, new byte[32], event(6)), 40);
    Files.write(logFile(), inserted(log, log.length, half));
    assertThat(AuditLog.verify(cfn(), null).problem()).contains("ends inside entry 7");
    try (AuditLog reopened = AuditLog.open(cfn())) {
      List<AuditEntry> tail = reopened.tail(1);
      assertThat(tail.getFirst().event().action()).isEqualTo("audit.repair");
      assertThat(tail.getFirst().event().detail()).containsEntry("discardedBytes", "40");
    }
    assertThat(AuditLog.verify(cfn(), null).ok()).isTrue();
  }

  @Test
  void aDamagedLogIsNeverAppendedTo() throws Exception {
    writeLog(5, 100);
    byte[] log = Files.readAllBytes(logFile());
    log[log.length - 100] ^= 1;
    Files.write(logFile(), log);
    assertThatThrownBy(() -> AuditLog.open(cfn()))
        .isInstanceOf(AuditException.class)
        .hasMessageContaining("nothing was appended")
        .hasMessageContaining("cfn audit verify");
    assertThat(Files.readAllBytes(logFile())).isEqualTo(log);
  }

  @Test
  void oneWriterAtATimeAndTheKeyMustMatch() throws Exception {
    try (AuditLog log = AuditLog.open(cfn())) {
      log.append(event(1));
      assertThatThrownBy(() -> AuditLog.open(cfn()))
          .isInstanceOf(AuditException.class)
          .hasMessageContaining("is open in another process");
    }
    Path keys = cfn().resolve("keys");
    Files.delete(keys.resolve(SigningKey.PRIVATE_FILE));
    Files.delete(keys.resolve(SigningKey.PUBLIC_FILE));
    assertThatThrownBy(() -> AuditLog.open(cfn()))
        .isInstanceOf(AuditException.class)
        .hasMessageContaining("signed with another key");
    // and verify against the new key names the mismatch
    AuditReport r =
        AuditLog.verify(cfn(), SigningKey.readPublicKey(keys.resolve(SigningKey.PUBLIC_FILE)));
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).contains("not with the expected key");
  }

  @Test
  void filesAreOwnerOnly() throws Exception {
    try (AuditLog log = AuditLog.open(cfn())) {
      log.append(event(1));
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(logFile())))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(headFile())))
        .isEqualTo("rw-------");
    Path keys = cfn().resolve("keys");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)))
        .isEqualTo("rwx------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(keys.resolve(SigningKey.PRIVATE_FILE))))
        .isEqualTo("rw-------");
  }

  @Test
  void theTimerSignsAnIdleTail() throws Exception {
    try (AuditLog log = AuditLog.builder(cfn()).checkpointInterval(Duration.ofMillis(50)).open()) {
      log.append(event(1));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (log.verify().unsigned() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(log.verify().unsigned()).isZero();
      assertThat(log.verify().checkpoints()).isEqualTo(1);
    }
  }
}
