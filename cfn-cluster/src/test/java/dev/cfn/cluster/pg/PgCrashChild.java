package dev.cfn.cluster.pg;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.spi.Journal;
import dev.cfn.testkit.journal.FaultyJournal;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link PgCrashTest}: a runtime on {@link PgJournal} that recovers the pending
 * messages and handles them with {@link PgReliableRuntimeTest#counter}; once {@code killAfter}
 * acknowledgements have committed (their futures completed true), it sends itself SIGKILL, from the
 * callback of the last one, so the kill lands at a known point: after exactly that many
 * acknowledgements were durable, with others in flight. With {@code killAfter} 0 it runs until
 * nothing is pending and exits 0.
 *
 * <p>Arguments: the JDBC URL, {@code killAfter}.
 */
public final class PgCrashChild {
  private PgCrashChild() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int killAfter = Integer.parseInt(args[1]);
    AtomicInteger acknowledged = new AtomicInteger();
    try (PgJournal journal = PgJournal.builder(url).open()) {
      // kills this JVM once killAfter acknowledgements committed, from the last one's callback
      Journal counting =
          FaultyJournal.wrapping(journal)
              .onApplied(
                  m -> {
                    if (acknowledged.addAndGet(m.size()) == killAfter) {
                      killSelf();
                    }
                  });
      try (AgentRuntime rt =
          AgentRuntime.builder()
              .journal(counting)
              .register(PgReliableRuntimeTest.counter(new AtomicInteger()))
              .build()) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!journal.recover().isEmpty()) {
          if (System.nanoTime() > deadline) {
            System.exit(3);
          }
          Thread.sleep(20);
        }
      }
    }
    System.exit(killAfter == 0 ? 0 : 2); // 2: the kill point was never reached
  }

  /** SIGKILLs this JVM; the signal arrives before it returns. */
  private static void killSelf() {
    try {
      new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
          .start()
          .waitFor();
      Thread.sleep(10_000); // the signal arrives meanwhile
    } catch (Exception e) {
      Runtime.getRuntime().halt(5);
    }
  }
}
