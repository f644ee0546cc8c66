package dev.cfn.certify;

import dev.cfn.testkit.process.ChildJvm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Check 4: message reliability. A {@link CrashNode} in a JVM of its own sends the profile's number
 * of RELIABLE messages through producer/consumer chains on a SQLite journal, while some handlers
 * fail on their first attempt (and are retried) and the node is SIGKILLed several times, each time
 * at a random point of the traffic, and restarted on the same journal. When the last node has
 * finished, the journal is audited: every item must have been handled exactly once. The figure is
 * items handled exactly once / items sent, in percent; lost and duplicated items are counted.
 */
final class ReliabilityCheck implements Check {
  private final CrashNode.Faults faults;

  ReliabilityCheck(CrashNode.Faults faults) {
    this.faults = faults;
  }

  @Override
  public CheckId id() {
    return CheckId.RELIABILITY;
  }

  @Override
  public String method(Context ctx) {
    Profile p = ctx.profile();
    return "A node in its own JVM (SQLite journal, synchronous=FULL) sends "
        + Figures.format(p.reliabilityMessages())
        + " RELIABLE messages through "
        + p.reliabilityChains()
        + " producer/consumer chains; every "
        + p.failEvery()
        + "th handler fails on its first attempt and is retried; the node is SIGKILLed "
        + p.reliabilityKills()
        + " times at random points of the traffic and restarted on the same journal. The journal"
        + " is then audited: reliability = items handled exactly once / items sent.";
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Profile p = ctx.profile();
    int chains = p.reliabilityChains();
    long perChain = (p.reliabilityMessages() + chains - 1) / chains;
    List<String> extra = new ArrayList<>(List.of("--fail-every", Integer.toString(p.failEvery())));
    if (faults.loseEvery() > 0) {
      extra.addAll(List.of("--lose-every", Integer.toString(faults.loseEvery())));
    }
    SplittableRandom random = new SplittableRandom();
    int duringTraffic = 0;
    long redelivered = 0;
    CrashRun run = new CrashRun(ctx.work(), "reliability", chains, perChain, extra);
    try (run) {
      ChildJvm node = run.start();
      redelivered += recovered(node);
      node.await("ready", 120);
      long slice = Math.max(1, perChain * chains / (p.reliabilityKills() + 1));
      for (int k = 1; k <= p.reliabilityKills(); k++) {
        long goal = (long) (slice * (0.3 + 0.6 * random.nextDouble()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (CrashNode.handled(node) < goal && !node.printed("done") && node.isAlive()) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "the node handled only "
                    + CrashNode.handled(node)
                    + " items in 300 s (see "
                    + node.log()
                    + ")");
          }
          Thread.sleep(2);
        }
        if (!node.printed("done") && node.isAlive()) {
          duringTraffic++;
        }
        run.kill();
        ctx.step(
            id(),
            "kill "
                + k
                + "/"
                + p.reliabilityKills()
                + " after "
                + CrashNode.handled(node)
                + " items");
        node = run.restart(List.of());
        redelivered += recovered(node);
        node.await("ready", 120);
      }
      ctx.step(id(), "waiting for the last node to finish");
      node.await("done", 900);
      run.finish();
    }
    JournalAudit audit = JournalAudit.of(run.db, chains, perChain);
    double reliability =
        audit.expected() == 0 ? Double.NaN : 100.0 * audit.exactlyOnce() / audit.expected();
    Map<String, Object> f = new LinkedHashMap<>(audit.asMap());
    f.put("reliabilityPercent", reliability);
    f.put("kills", p.reliabilityKills());
    f.put("killsDuringTraffic", duringTraffic);
    f.put("redeliveredAtRestarts", redelivered);
    f.put("failEvery", p.failEvery());
    double target = ctx.target(id());
    boolean allKillsCounted = duringTraffic == p.reliabilityKills();
    String verdict =
        Figures.format(audit.exactlyOnce())
            + " of "
            + Figures.format(audit.expected())
            + " handled exactly once ("
            + Figures.format(reliability)
            + " %), lost "
            + audit.lost()
            + ", duplicated "
            + audit.duplicated()
            + ", "
            + duringTraffic
            + " of "
            + p.reliabilityKills()
            + " kills during traffic"
            + (allKillsCounted ? "" : " (the node finished too early: raise the messages)");
    return CheckResult.measured(
        id(), reliability, target, allKillsCounted, method(ctx), verdict, f);
  }

  private static long recovered(ChildJvm node) throws InterruptedException {
    return Long.parseLong(node.await("recovered ", 120).split(" ")[1]);
  }
}
