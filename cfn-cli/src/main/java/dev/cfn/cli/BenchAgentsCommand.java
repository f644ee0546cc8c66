package dev.cfn.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cfn bench agents}: LLM tasks through cfn beside LangChain4j, run by the benchmark jar
 * (which starts every system in a JVM of its own; LangChain4j lives only in that jar). The options
 * are checked here, so that a bad value is refused before any JVM starts, and passed on as given;
 * the jar's {@code AgentsCommand} declares the same ones.
 */
@Command(
    name = "agents",
    mixinStandardHelpOptions = true,
    description = {
      "LLM tasks through cfn and through LangChain4j 1.x against one loopback model server that"
          + " answers at once (OpenAI protocol), each system in a JVM of its own with the same"
          + " flags: tasks/s, p50/p99, CPU and bytes allocated per task at concurrency 1, 16 and"
          + " 256, medians of 3 runs, and the ratios.",
      "Scenarios: cfn-agent (rt.request -> LlmAgent), lc4j-aiservices, cfn-provider"
          + " (ModelProvider.chat), lc4j-model (OpenAiChatModel), cfn-reliable (RELIABLE with the"
          + " durable call log), cfn-tool and lc4j-tool (a tool round trip).",
      "Each system's JVM first runs a 15 s warm-up (the JIT), then every cell: 3 s warm-up and"
          + " a 5 s window. The full run takes about 15 minutes; --quick (no JVM warm-up) about one."
    })
final class BenchAgentsCommand implements Callable<Integer> {
  /** Scenario names {@code --only} accepts (as in the jar's AgentsBench). */
  static final List<String> SCENARIOS =
      List.of(
          "cfn-agent",
          "lc4j-aiservices",
          "cfn-provider",
          "lc4j-model",
          "cfn-reliable",
          "cfn-tool",
          "lc4j-tool");

  /** The most concurrent tasks of a cell (as in the jar's AgentsBench). */
  static final int MAX_CONCURRENCY = 4096;

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
      description = "Run only these scenarios (default: all seven).")
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
    BenchCommand.JarArgs args =
        new BenchCommand.JarArgs("agents")
            .flag("--quick", quick)
            .outputFile("--json", json)
            .scenarios("--only", only, SCENARIOS);
    if (concurrency != null) {
      if (concurrency.length == 0) {
        throw CommandFailure.usage("--concurrency is empty", "give e.g. --concurrency 1,16");
      }
      for (int c : concurrency) {
        ValueConverters.atLeast("--concurrency", c, 1);
        if (c > MAX_CONCURRENCY) {
          throw CommandFailure.usage(
              "--concurrency " + c + " is more than " + MAX_CONCURRENCY,
              "give at most " + MAX_CONCURRENCY);
        }
      }
    }
    return args.ints("--concurrency", concurrency).atLeast("--runs", runs, 1).run();
  }
}
