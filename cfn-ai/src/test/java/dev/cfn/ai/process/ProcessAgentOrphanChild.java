package dev.cfn.ai.process;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A cfn process for {@link ProcessAgentDiesWithTheJvmTest}: runs a process agent whose command is
 * {@code /bin/sh <script>} (with {@code PIDS=<pid file>}), sends it one request, says {@code
 * STARTED} on its standard output once the script has written its two pids, and waits to be killed.
 */
public final class ProcessAgentOrphanChild {
  private ProcessAgentOrphanChild() {}

  public static void main(String[] args) throws Exception {
    Path pids = Path.of(args[1]);
    ProcessSpec spec =
        ProcessSpec.builder("/bin/sh", args[0])
            .env("PIDS", pids.toString())
            .timeout(Duration.ofHours(1))
            .build();
    AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("stubborn", spec));
    rt.request(AgentId.of("stubborn", "1"), "", Duration.ofHours(1)); // never answered
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(Files.exists(pids) && Files.readAllLines(pids).size() >= 2)) {
      if (System.nanoTime() - end > 0) {
        System.out.println("NOT STARTED");
        System.exit(1);
      }
      Thread.sleep(20);
    }
    System.out.println("STARTED");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
