package dev.cfn.bench;

import dev.langchain4j.agentic.Agent;
import dev.langchain4j.agentic.AgenticServices;
import dev.langchain4j.agentic.UntypedAgent;
import dev.langchain4j.service.V;
import java.time.Duration;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The forward chain's peer on LangChain4j agentic: a sequence workflow of three non-AI agents, each
 * reading the previous one's output from the agentic scope and writing its own. It runs
 * synchronously in the caller's thread, without a bus; recorded per invocation: its time / 3, the
 * time of one step, as {@link CfnScenarios#forwardChain} records it.
 */
final class LangChainScenarios {
  private LangChainScenarios() {}

  /** First step: s0 to s1. */
  public static final class StepOne {
    /** Adds one. */
    @Agent(name = "one", description = "first step", outputKey = "s1")
    public long step(@V("s0") long in) {
      return in + 1;
    }
  }

  /** Second step: s1 to s2. */
  public static final class StepTwo {
    /** Adds one. */
    @Agent(name = "two", description = "second step", outputKey = "s2")
    public long step(@V("s1") long in) {
      return in + 1;
    }
  }

  /** Third step: s2 to s3. */
  public static final class StepThree {
    /** Adds one. */
    @Agent(name = "three", description = "third step", outputKey = "s3")
    public long step(@V("s2") long in) {
      return in + 1;
    }
  }

  static Results.Latency sequence(Duration warmup, Duration measure) throws Exception {
    UntypedAgent sequence =
        AgenticServices.sequenceBuilder()
            .subAgents(new StepOne(), new StepTwo(), new StepThree())
            .output(scope -> scope.readState("s3"))
            .build();
    Histogram perStep = new Histogram(60_000_000_000L, 3);
    long[] n = {0};
    Cpu cpu =
        CfnScenarios.closedLoop(
            warmup,
            measure,
            measured -> {
              long i = n[0]++;
              long t0 = System.nanoTime();
              Object out = sequence.invoke(Map.of("s0", i));
              long took = System.nanoTime() - t0;
              if (((Number) out).longValue() != i + 3) {
                throw new IllegalStateException(
                    "the LangChain4j sequence returned " + out + " for " + i + ", not " + (i + 3));
              }
              if (measured) {
                perStep.recordValue(took / 3);
              }
            });
    return Results.Latency.of(
        "forward-chain",
        "langchain4j",
        "sequence",
        0,
        perStep,
        cpu.processCores(),
        cpu.othersCores());
  }
}
