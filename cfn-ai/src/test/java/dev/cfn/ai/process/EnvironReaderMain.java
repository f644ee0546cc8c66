package dev.cfn.ai.process;

import dev.cfn.ai.internal.os.Linux;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.nio.charset.StandardCharsets;

/**
 * Run in a child JVM by {@link ParentEnvironmentTest} with a fake secret in its environment: first
 * a control child started straight through the JDK (the JVM not yet hardened) reads the JVM's
 * {@code /proc/<pid>/environ}, then a {@link ProcessAgent} child tries the same, walking up through
 * every ancestor. Prints one {@code key=value} line per finding on stdout.
 */
public final class EnvironReaderMain {
  /** The attack: the parent's environ, then every ancestor's, as the tester ran it. */
  static final String ATTACK =
      "tr '\\0' '\\n' < /proc/$PPID/environ 2>&1; p=$PPID; while [ \"$p\" -gt 1 ]; do"
          + " tr '\\0' '\\n' < /proc/$p/environ 2>&1;"
          + " p=$(sed 's/.*) [A-Za-z] \\([0-9]*\\).*/\\1/' /proc/$p/stat); done";

  private EnvironReaderMain() {}

  public static void main(String[] args) throws Exception {
    String secret = System.getenv("CFN_FAKE_SECRET");
    Process control = new ProcessBuilder("sh", "-c", ATTACK).redirectErrorStream(true).start();
    String controlOut = new String(control.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    control.waitFor();
    System.out.println("control-leaked=" + controlOut.contains(secret));

    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", ATTACK).stdin(ProcessSpec.Stdin.none()).build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      ProcessResult r = ProcessTestSupport.ask(rt, AgentId.of("proc", "1"), "");
      String all = r.stdout() + r.stderrTail();
      System.out.println("agent-ran=" + (r.outcome() == ProcessResult.Outcome.COMPLETED));
      System.out.println("agent-leaked=" + all.contains(secret));
      System.out.println("agent-denied=" + all.contains("Permission denied"));
    }
    System.out.println("dumpable=" + Linux.dumpable());
    System.out.println("subreaper=" + Linux.childSubreaper());
  }
}
