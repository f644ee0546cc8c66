package dev.cfn.certify;

import dev.cfn.testkit.file.FileDamage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Check 9: data integrity. Through each of cfn's stores (journal, memory, call log, the server's
 * token file with tokens, the same file with client-certificate records, and the audit log): write
 * N records, each durable when the write returns; close the store (a restart of it); reopen, read
 * every record back and compare it with what was written; run the store's own check (SQLite's
 * {@code integrity_check} and every record's checksum; for the token file {@code
 * TokenStore.check()}, i.e. {@code cfn token check}; for the audit log its chain and signatures,
 * i.e. {@code cfn audit verify --public-key}). Then copy the closed store, flip one byte inside one
 * record's value in the copy, and confirm that the store's check (or its opening) reports the
 * damage. The figure is records read back intact / records written, in percent; the check also
 * fails on any problem the store reports for its real file and on any damage it misses.
 */
final class IntegrityCheck implements Check {
  private final Supplier<List<StoreSubject>> stores;

  IntegrityCheck(Supplier<List<StoreSubject>> stores) {
    this.stores = stores;
  }

  /** cfn's stores: five files, the token file once with tokens and once with certificates. */
  static Supplier<List<StoreSubject>> cfnStores() {
    return StoreSubject::all;
  }

  @Override
  public CheckId id() {
    return CheckId.INTEGRITY;
  }

  @Override
  public String method(Context ctx) {
    return "Through each store (SqliteJournal, SqliteMemoryStore, SqliteCallLogStore, the"
        + " server's TokenStore once with tokens and once with client-certificate records, the"
        + " AuditLog): write "
        + Figures.format(ctx.profile().integrityRecords())
        + " records, close, reopen, read every one back and compare (a token: its secret still"
        + " authenticates as it; a client certificate: it still authenticates as its principal), run the store's check (integrity_check and every record's"
        + " checksum; cfn token check; cfn audit verify with the log's public key); then flip one"
        + " byte of one record in a copy and confirm the store's check reports it. Integrity ="
        + " records intact / written.";
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    int n = ctx.profile().integrityRecords();
    String run = HexFormat.of().toHexDigits((int) System.nanoTime()); // unique to this run
    long written = 0;
    long intact = 0;
    List<String> problems = new ArrayList<>();
    List<String> missed = new ArrayList<>();
    List<Map<String, Object>> perStore = new ArrayList<>();
    int index = 0;
    for (StoreSubject store : stores.get()) {
      index++;
      Path dir = Files.createDirectories(ctx.work().resolve("store-" + index));
      Path file = store.file(dir);
      ctx.step(id(), store.name() + ": writing " + Figures.format(n) + " records");
      store.open(file);
      try {
        for (int i = 0; i < n; i++) {
          store.write(i, value(run, index, i));
        }
      } finally {
        store.close();
      }
      long storeIntact = 0;
      List<String> storeProblems = new ArrayList<>();
      store.open(file);
      try {
        for (int i = 0; i < n; i++) {
          Optional<String> back = store.read(i);
          if (back.isPresent() && back.get().equals(value(run, index, i))) {
            storeIntact++;
          } else if (storeProblems.size() < 5) {
            storeProblems.add(
                "record " + i + (back.isEmpty() ? " is missing" : " reads back different"));
          }
        }
        storeProblems.addAll(store.check());
      } catch (RuntimeException e) {
        storeProblems.add("reading back failed: " + e.getMessage());
      } finally {
        store.close();
      }
      written += n;
      intact += storeIntact;
      for (String p : storeProblems) {
        problems.add(store.name() + ": " + p);
      }
      ctx.step(id(), store.name() + ": " + storeIntact + " of " + n + " intact; flipping a byte");
      String detection = flipAndCheck(store, file, dir.resolve("copy"), value(run, index, n / 2));
      boolean detected = detection.startsWith("detected");
      if (!detected) {
        missed.add(store.name() + ": " + detection);
      }
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("store", store.name());
      s.put("written", n);
      s.put("intact", storeIntact);
      s.put("problems", storeProblems);
      s.put("flippedByte", detection);
      perStore.add(s);
    }
    double percent = written == 0 ? Double.NaN : 100.0 * intact / written;
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("recordsPerStore", n);
    f.put("written", written);
    f.put("intact", intact);
    f.put("integrityPercent", percent);
    f.put("stores", perStore);
    double target = ctx.target(id());
    boolean clean = problems.isEmpty() && missed.isEmpty();
    String verdict =
        Figures.format(intact)
            + " of "
            + Figures.format(written)
            + " records intact ("
            + Figures.format(percent)
            + " %)"
            + (problems.isEmpty() ? ", stores' checks clean" : "; problems: " + problems)
            + (missed.isEmpty()
                ? "; a flipped byte was detected in every store"
                : "; damage NOT detected: " + missed);
    return CheckResult.measured(id(), percent, target, clean, method(ctx), verdict, f);
  }

  /**
   * Record {@code i}'s value: unique to this run, store and record, so it can be found in a file.
   */
  static String value(String run, int store, int i) {
    return "cfn-certify-"
        + run
        + "-"
        + store
        + "-"
        + String.format(java.util.Locale.ROOT, "%07d", i);
  }

  /**
   * Copies the closed store's file, flips one byte of {@code marker} wherever it is stored in the
   * copy, opens the copy and runs the store's check. Returns "detected: ..." or why not.
   */
  static String flipAndCheck(StoreSubject store, Path file, Path copyDir, String marker)
      throws IOException {
    // Control: the undamaged copy opens and checks clean, so a refusal below is the flip's doing.
    Path pristine = store.copy(file, copyDir.resolve("pristine"));
    try {
      store.open(pristine);
      try {
        List<String> found = store.check();
        if (!found.isEmpty()) {
          return "not tested: the undamaged copy already fails its check: " + found.get(0);
        }
      } finally {
        store.close();
      }
    } catch (RuntimeException e) {
      return "not tested: the undamaged copy did not open either: " + e.getMessage();
    }
    Path copy = store.copy(file, copyDir);
    int flipped = flip(copy, marker);
    if (flipped == 0) {
      return "not tested: the record's bytes were not found in the file";
    }
    try {
      store.open(copy);
      try {
        List<String> found = store.check();
        return found.isEmpty()
            ? "NOT detected: the store's check found nothing wrong after " + flipped + " flip(s)"
            : "detected: " + found.get(0);
      } finally {
        store.close();
      }
    } catch (RuntimeException e) {
      return "detected: the store refused to open the damaged copy: " + e.getMessage();
    }
  }

  /**
   * Flips the last byte of {@code marker} (its lowest bit) at every place it occurs, with
   * cfn-testkit's {@link FileDamage}: each flip changes the first occurrence left, so the next one
   * finds the following.
   */
  static int flip(Path file, String marker) throws IOException {
    long most = Files.size(file) / Math.max(1, marker.length());
    int count = 0;
    while (count <= most) {
      try {
        FileDamage.flipLastByteOf(file, marker);
      } catch (IllegalArgumentException e) {
        break; // no occurrence left
      }
      count++;
    }
    return count;
  }
}
