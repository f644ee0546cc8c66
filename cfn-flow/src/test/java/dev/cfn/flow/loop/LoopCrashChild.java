package dev.cfn.flow.loop;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * The child JVM of {@link LoopResumeAfterKillTest}: opens the journal and call log in {@code
 * args[0]} with LLM agents asking the model server at {@code args[1]}, then starts ({@code args[2]}
 * = start) or resumes run {@code loop-1}, and prints {@code DONE STATUS} when it settles.
 */
public final class LoopCrashChild {
  private LoopCrashChild() {}

  static LoopSpec spec() {
    return LoopFixture.spec().maxImplementations(10).build();
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (LoopFixture p = LoopFixture.open(Path.of(args[0]), args[1])) {
      CompletableFuture<LoopRecord> run =
          args[2].equals("start")
              ? p.runner.start("loop-1", spec(), "Write add")
              : p.runner.resume("loop-1");
      out.println("READY");
      LoopRecord r = run.get();
      out.println("DONE " + r.status());
    }
  }
}
