package dev.cfn.store.calls;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A child JVM for {@link CallLogCrashTest}: opens the call log at {@code args[0]} and records
 * without end from {@code args[1]} virtual threads, printing {@code OPEN} first and then each key
 * once its {@code record} has returned (the record is acknowledged), until it is killed.
 */
final class CallLogRecorder {
  private CallLogRecorder() {}

  /** The result recorded under {@code key}: derived from it, so the parent can check it. */
  static String resultOf(String key) {
    return "{\"answer\":\"" + key + "\",\"pad\":\"" + "x".repeat(200) + "\"}";
  }

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int threads = Integer.parseInt(args[1]);
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    SqliteCallLogStore calls =
        SqliteCallLogStore.builder(file).sweepEvery(Duration.ZERO).open(); // never closed: killed
    out.println("OPEN");
    out.flush();
    List<Thread> recorders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      recorders.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int n = 0; ; n++) {
                      String key = "t" + thread + "|n" + n;
                      calls.record(key, resultOf(key));
                      synchronized (out) {
                        out.println(key);
                        out.flush();
                      }
                    }
                  }));
    }
    for (Thread r : recorders) {
      r.join();
    }
  }
}
