package dev.cfn.flow.graph;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.Envelope;
import java.util.List;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runs of a RELIABLE {@link GraphRunner} that have not finished, kept in the journal state of
 * the agent {@code cfn-flow-runs/index} ({@code run.RUN} = the graph's name), so that a runner
 * built on a restarted runtime resumes every one of them by itself: it sends this agent a {@link
 * ResumeAll} when it is built, and the agent calls {@link GraphRunner#resume} for each run listed.
 *
 * <p>Why: after a crash the journal redelivers a run's pending messages on its own, but the timers
 * of a run (an attempt's timeout, a retry's backoff, the deadline) lived in the dead process; a run
 * waiting only on a timer would wait for ever unless someone resumed it. With the index nobody has
 * to remember which runs those are.
 *
 * <p>The runner sends {@link Track} before a run's start; the run's coordinator puts {@link
 * Untrack} in the outbox of the turn that ends the run, so that it leaves exactly when that turn
 * commits, and its arrival here completes the run's outcome ({@link GraphRunner#committed}): a
 * caller never sees a run end that is not durable. (A start or resume of a run that had finished
 * untracks it again.) A run listed but never started (a crash between {@code Track} and the start)
 * is resumed to a warning and stays listed until untracked by a start of the same id; both are
 * harmless.
 */
final class RunIndex implements Agent {
  private static final Logger log = LoggerFactory.getLogger(RunIndex.class);

  /** The agent type of the index. */
  static final String TYPE = "cfn-flow-runs";

  /** The one index agent of a runtime. */
  static final AgentId ID = AgentId.of(TYPE, "index");

  private static final String PREFIX = "run.";
  private static final int LIMIT = dev.cfn.core.spi.Journal.MAX_PREFIX_ENTRIES;

  /** A run is about to start. */
  record Track(String runId, String graph) {}

  /** A run has finished. */
  record Untrack(String runId) {}

  /** A runner was built: resume every run listed. */
  record ResumeAll(long at) {}

  /** The payload classes of the index, for the journal. */
  static final List<Class<?>> RELIABLE_TYPES = List.of(Track.class, Untrack.class, ResumeAll.class);

  private final GraphRunner runner;

  RunIndex(GraphRunner runner) {
    this.runner = runner;
  }

  @Override
  public void onMessage(Envelope message, AgentContext ctx) {
    switch (message.payload()) {
      case Track t -> ctx.effects().put(PREFIX + t.runId(), t.graph());
      case Untrack u -> {
        ctx.effects().delete(PREFIX + u.runId());
        runner.committed(u.runId()); // sent by the run's last turn once it committed
      }
      case ResumeAll r -> resumeAll(ctx);
      default -> log.warn("the run index ignores a {}", message.payload().getClass().getName());
    }
  }

  private void resumeAll(AgentContext ctx) {
    SortedMap<String, String> runs = ctx.effects().getByPrefix(PREFIX, LIMIT);
    if (runs.size() == LIMIT) {
      log.warn(
          "more than {} unfinished RELIABLE runs are listed; the first {} are resumed now, the"
              + " rest with GraphRunner.resume(runId)",
          LIMIT - 1,
          LIMIT);
    }
    int resumed = 0;
    for (var run : runs.entrySet()) {
      String runId = run.getKey().substring(PREFIX.length());
      if (!runner.graphs().containsKey(run.getValue())) {
        log.info(
            "run {} is of graph '{}', which this runner does not have; a runner with that graph"
                + " resumes it",
            runId,
            run.getValue());
        continue;
      }
      runner.resume(runId);
      resumed++;
    }
    if (resumed > 0) {
      log.info("resuming {} unfinished RELIABLE run(s) after a restart", resumed);
    }
  }
}
