package dev.cfn.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cfn bench agents}: the options, checked by {@link AgentsBench.Settings}; see {@link
 * AgentsBench} for what runs. The cfn command checks the same options before it starts this jar.
 */
@Command(
    name = "agents",
    mixinStandardHelpOptions = true,
    description =
        "LLM tasks through cfn and through LangChain4j against one loopback model server (instant"
            + " answers), each system in its own JVM: tasks/s, p50/p99, CPU and bytes allocated per"
            + " task at concurrency 1, 16 and 256.")
final class AgentsCommand implements Callable<Integer> {
  @Option(
      names = "--quick",
      description = "One run, 0.5 s warm-up and 1 s windows (about a minute).")
  boolean quick;

  @Option(names = "--json", paramLabel = "FILE", description = "Write every figure to FILE.")
  Path json;

  @Option(
      names = "--only",
      split = ",",
      paramLabel = "SCENARIO",
      description =
          "Run only these: cfn-agent, lc4j-aiservices, cfn-provider, lc4j-model, cfn-reliable,"
              + " cfn-tool, lc4j-tool (default: all).")
  List<String> only;

  @Option(
      names = "--concurrency",
      split = ",",
      paramLabel = "N",
      description = "Concurrent tasks of the cells (default: 1,16,256).")
  int[] concurrency;

  @Option(
      names = "--runs",
      paramLabel = "N",
      description =
          "Runs of every system, each in a new JVM; medians over them (default 3, quick 1).")
  Integer runs;

  @Override
  public Integer call() throws Exception {
    AgentsBench.Settings base = quick ? AgentsBench.Settings.quick() : AgentsBench.Settings.full();
    if (json != null) {
      BenchMain.outputFile("--json", json);
      for (Path p = json.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
        if (Files.exists(p)) {
          if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException(
                "--json "
                    + json
                    + ": "
                    + p
                    + " is a file, not a folder (fix: choose another path)");
          }
          break;
        }
      }
    }
    AgentsBench.Settings s =
        new AgentsBench.Settings(
            only != null ? only : base.scenarios(),
            concurrency != null ? concurrency : base.concurrencies(),
            runs != null ? runs : base.runs(),
            base.warmup(),
            base.measure(),
            base.jvmWarmup());
    var result = new AgentsBench(s, System.out).run();
    if (json != null) {
      BusBench.writeJson(result, json);
      System.out.println("wrote " + json.toAbsolutePath());
    }
    long failed = ((Number) result.get("failedTasks")).longValue();
    if (failed > 0) {
      System.err.println(
          "cfn bench agents: failed: "
              + failed
              + " tasks failed or answered wrongly (see the table; every answer is checked)");
      return 1;
    }
    return 0;
  }
}
