package dev.cfn.certify;

import dev.cfn.testkit.process.ChildJvm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Check 6: recovery time. A {@link CrashNode} runs reliable chains without end in a JVM of its own;
 * it is SIGKILLed the profile's number of times, each after a random run, and restarted at once on
 * the same journal. Each recovery is timed from the SIGKILL to the first message handled by the
 * restarted node (JVM start, journal recovery and redelivery included), on the wall clock both
 * processes share. The figure is the worst recovery, in seconds; P50 is reported beside it.
 */
final class RecoveryCheck implements Check {
  private final CrashNode.Faults faults;

  RecoveryCheck(CrashNode.Faults faults) {
    this.faults = faults;
  }

  @Override
  public CheckId id() {
    return CheckId.RECOVERY;
  }

  @Override
  public String method(Context ctx) {
    Profile p = ctx.profile();
    return "A node in its own JVM (SQLite journal) runs reliable chains without end; it is"
        + " SIGKILLed "
        + p.recoveryKills()
        + " times, each after a random "
        + p.killMinMs()
        + "-"
        + p.killMaxMs()
        + " ms, and restarted at once. Recovery = SIGKILL to the first message handled after the"
        + " restart (JVM start, journal recovery, redelivery); the figure is the maximum.";
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Profile p = ctx.profile();
    int chains = p.reliabilityChains();
    List<String> slowStart =
        faults.startDelayMs() > 0
            ? List.of("--start-delay-ms", Long.toString(faults.startDelayMs()))
            : List.of();
    SplittableRandom random = new SplittableRandom();
    List<Double> recoverySeconds = new ArrayList<>();
    List<Double> journalMs = new ArrayList<>();
    long waitSeconds = 120 + faults.startDelayMs() / 1000;
    CrashRun run = new CrashRun(ctx.work(), "recovery", chains, 0, List.of());
    try (run) {
      ChildJvm node = run.start();
      node.await("first-handled ", 120);
      for (int k = 1; k <= p.recoveryKills(); k++) {
        Thread.sleep(p.killMinMs() + random.nextInt(p.killMaxMs() - p.killMinMs() + 1));
        long killedAt = run.kill();
        node = run.restart(slowStart);
        String recovered = node.await("recovered ", waitSeconds);
        journalMs.add(Double.parseDouble(recovered.split(" ")[2]));
        long handledAt = Long.parseLong(node.await("first-handled ", waitSeconds).split(" ")[1]);
        double s = (handledAt - killedAt) / 1000.0;
        recoverySeconds.add(s);
        ctx.step(
            id(),
            "kill " + k + "/" + p.recoveryKills() + ": recovered in " + Figures.format(s) + " s");
      }
      run.finish();
    }
    JournalAudit audit = JournalAudit.of(run.db, chains, 0);
    double max = Figures.percentile(recoverySeconds, 100);
    double p50 = Figures.percentile(recoverySeconds, 50);
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("kills", p.recoveryKills());
    f.put("recoverySeconds", Figures.summary(recoverySeconds));
    f.put("journalRecoveryMs", Figures.summary(journalMs));
    f.put("messagesAudit", audit.asMap());
    double target = ctx.target(id());
    String verdict =
        "recovery P50 "
            + Figures.format(p50)
            + " s, max "
            + Figures.format(max)
            + " s against "
            + id().describeTarget(target)
            + " ("
            + recoverySeconds.size()
            + " kills; lost "
            + audit.lost()
            + ", duplicated "
            + audit.duplicated()
            + ")";
    // a restart that loses or repeats a message has not recovered, however fast it was
    boolean intact = audit.lost() == 0 && audit.duplicated() == 0;
    return CheckResult.measured(
        id(),
        max,
        target,
        intact,
        method(ctx),
        intact ? verdict : verdict + ": FAILED, a recovery must lose and repeat nothing",
        f);
  }
}
