package dev.cfn.certify;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.flow.swarm.Reduce;
import dev.cfn.flow.swarm.RoundResult;
import dev.cfn.flow.swarm.Swarm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Check 3: agent coordination. For each size N of the profile (100, 1,000, 10,000, ...) a fresh
 * runtime gets a swarm ({@code dev.cfn.flow.swarm.Swarm}) of N member agents, and the swarm runs
 * one coordination round: the task broadcast to every member, every reply gathered, a consensus
 * reached by {@link Reduce#majority()}, within the round's deadline. A size passes when the round
 * is complete (every member replied), decided the way the members' contested vote says, and ended
 * before its deadline. The figure is the largest size that passed; the sizes stop at the first that
 * fails.
 */
final class CoordinationCheck implements Check {
  /**
   * What a real member does: answers the task (a request, or a plain message) with its vote. The
   * vote is contested: every third member (key divisible by 3) votes "no", the others "yes", so the
   * majority has to be counted ({@link #EXPECTED}: "yes" with about two thirds of the asked).
   */
  static final Function<AgentId, Agent> ANSWERING_MEMBER =
      id -> {
        String vote = votesNo(id) ? "no" : "yes";
        return (m, ctx) -> {
          if (m.isRequest()) {
            ctx.reply(vote);
          } else {
            ctx.send(m.sender(), vote);
          }
        };
      };

  /** The decision a round of {@link #ANSWERING_MEMBER}s must reach. */
  static final String EXPECTED = "yes";

  private static boolean votesNo(AgentId id) {
    try {
      return Integer.parseInt(id.key()) % 3 == 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private final Function<AgentId, Agent> members;

  CoordinationCheck(Function<AgentId, Agent> members) {
    this.members = members;
  }

  @Override
  public CheckId id() {
    return CheckId.COORDINATION;
  }

  @Override
  public String method(Context ctx) {
    return "For each N in "
        + ctx.profile().coordinationSizes()
        + ": a fresh runtime, a swarm of N member agents (cfn-flow Swarm, topology AUTO), one"
        + " coordination round: the task broadcast to all, every reply gathered (a contested"
        + " vote: every third member votes no), consensus by Reduce.majority() (more than half of"
        + " the members asked), which must decide yes; deadline "
        + ctx.profile().coordinationDeadline().toMillis()
        + " ms. N passes when the round is complete, decided and on time; the figure is the"
        + " largest N that passed (stopping at the first failure).";
  }

  /** The task the round broadcasts. */
  record Task(String question) {}

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Profile p = ctx.profile();
    List<Map<String, Object>> rounds = new ArrayList<>();
    int largest = 0;
    String failure = null;
    for (int n : p.coordinationSizes()) {
      ctx.step(id(), Figures.format(n) + " agents: joining");
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("agents", n);
      try (AgentRuntime rt =
          AgentRuntime.builder().name("certify-coordination").jvmMetrics(false).build()) {
        rt.register(AgentType.of("member", members::apply));
        long j0 = System.nanoTime();
        try (Swarm swarm = Swarm.builder("certify", rt).build()) {
          for (int i = 0; i < n; i++) {
            swarm.join(AgentId.of("member", Integer.toString(i)));
          }
          r.put("joinMs", (System.nanoTime() - j0) / 1e6);
          long t0 = System.nanoTime();
          RoundResult result =
              swarm
                  .round(new Task("ship it?"))
                  .reduce(Reduce.majority())
                  .deadline(p.coordinationDeadline())
                  .start()
                  .get(p.coordinationDeadline().toMillis() + 60_000, TimeUnit.MILLISECONDS);
          double ms = (System.nanoTime() - t0) / 1e6;
          boolean onTime = !result.deadlinePassed() && ms <= p.coordinationDeadline().toMillis();
          boolean rightDecision = result.decided() && EXPECTED.equals(result.decision());
          boolean passed = result.complete() && rightDecision && onTime;
          r.put("roundMs", ms);
          r.put("asked", result.asked());
          r.put("replies", result.replies().size());
          r.put("missing", result.missing().size());
          r.put("unreachable", result.unreachable().size());
          r.put("decision", String.valueOf(result.decision()));
          r.put("deadlinePassed", result.deadlinePassed());
          r.put("passed", passed);
          rounds.add(r);
          ctx.step(
              id(),
              Figures.format(n)
                  + " agents: "
                  + (passed ? "passed" : "failed")
                  + " in "
                  + Figures.format(ms)
                  + " ms ("
                  + result.replies().size()
                  + " of "
                  + result.asked()
                  + " replied)");
          if (!passed) {
            failure =
                Figures.format(n)
                    + " agents failed: "
                    + result.replies().size()
                    + " of "
                    + result.asked()
                    + " replied"
                    + (result.decided()
                        ? (rightDecision
                            ? ""
                            : ", decided " + result.decision() + " instead of " + EXPECTED)
                        : ", no majority")
                    + (onTime ? "" : ", deadline passed");
            break;
          }
          largest = n;
        }
      }
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("deadlineMs", p.coordinationDeadline().toMillis());
    f.put("largestPassed", largest);
    f.put("rounds", rounds);
    double target = ctx.target(id());
    String verdict =
        "largest swarm that completed a round: "
            + Figures.format(largest)
            + " agents"
            + (failure != null ? "; " + failure : "; every size tried passed");
    return CheckResult.measured(id(), largest, target, true, method(ctx), verdict, f);
  }
}
