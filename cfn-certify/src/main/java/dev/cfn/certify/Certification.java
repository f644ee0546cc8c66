package dev.cfn.certify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Runs the certification: each selected check in the seed's order, then the level and the score
 * over all ten.
 *
 * <pre>{@code
 * PrintStream terminal = System.err; // held: while a check runs, System.err is its node log
 * CertificationReport r = Certification.builder()
 *     .profile(Profile.quick())
 *     .targets(Targets.defaults())
 *     .progress((check, step) -> terminal.println(check + ": " + step))
 *     .build()
 *     .run();
 * ReportFiles.write(r, Path.of("certification"));
 * System.exit(r.level().exitCode());
 * }</pre>
 *
 * <p>All ten checks run on the real system. A check whose subject is missing (check 8 on a node
 * that answers {@code /metrics} with 404) reports NOT AVAILABLE, counted as failed.
 *
 * <p>While a check runs, this JVM's standard error goes to the log of the nodes the check runs in
 * this JVM, {@code node.log} in the check's folder (see {@link #run}): their expected warnings stay
 * off the terminal. A progress listener that prints must hold its stream before the run.
 */
public final class Certification {
  private final Profile profile;
  private final Targets targets;
  private final Set<CheckId> selected;
  private final Progress progress;
  private final Path work;
  private final Environment environment;
  private final Map<CheckId, Check> checks;

  private Certification(Builder b) {
    this.profile = b.profile;
    this.targets = b.targets;
    this.selected = EnumSet.copyOf(b.selected);
    this.progress = b.progress;
    this.work = b.work;
    this.environment = b.environment;
    this.checks = new EnumMap<>(b.checks);
  }

  /** Starts a certification with the quick profile and the seed's targets. */
  public static Builder builder() {
    return new Builder();
  }

  /** The ten checks, each on its real subject. */
  static Map<CheckId, Check> standardChecks() {
    Map<CheckId, Check> m = new EnumMap<>(CheckId.class);
    m.put(CheckId.LATENCY, new LatencyCheck(BusLink.DIRECT));
    m.put(CheckId.THROUGHPUT, new ThroughputCheck(BusLink.DIRECT));
    m.put(CheckId.COORDINATION, new CoordinationCheck(CoordinationCheck.ANSWERING_MEMBER));
    m.put(CheckId.RELIABILITY, new ReliabilityCheck(CrashNode.Faults.NONE));
    m.put(CheckId.UPTIME, new UptimeCheck(0));
    m.put(CheckId.RECOVERY, new RecoveryCheck(CrashNode.Faults.NONE));
    m.put(CheckId.SECURITY, new SecurityCheck(SecurityCheck.REAL));
    m.put(CheckId.MONITORING, new MonitoringCheck(MonitoringCheck.REAL));
    m.put(CheckId.INTEGRITY, new IntegrityCheck(IntegrityCheck.cfnStores()));
    m.put(CheckId.RESILIENCE, new ResilienceCheck(ResilienceCheck.Clients.REAL));
    return m;
  }

  /**
   * Runs the selected checks and returns the report. Each check has a folder of its own under the
   * work folder ({@link Builder#workDir}, else a temporary one removed at the end), holding its
   * files and its nodes' logs: {@code node-N.log} of each child JVM node, {@code node.log} of what
   * was logged in this JVM while it ran (standard error is appended there, then given back).
   */
  public CertificationReport run() throws IOException {
    Instant started = Instant.now();
    Path root =
        work != null ? Files.createDirectories(work) : Files.createTempDirectory("cfn-certify");
    List<CheckResult> results = new ArrayList<>();
    try {
      for (CheckId id : CheckId.values()) {
        double target = targets.of(id);
        if (!selected.contains(id)) {
          results.add(CheckResult.notAvailable(id, target, "not run (not selected with --check)"));
          continue;
        }
        Check check = checks.get(id);
        Check.Context ctx =
            new Check.Context(
                profile, targets, progress, Files.createDirectories(root.resolve(id.key())));
        progress.step(id, "started");
        CheckResult r;
        try (NodeLog log = NodeLog.open(ctx.work())) {
          r = check.run(ctx);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted during the " + id.key() + " check", e);
        } catch (Exception | AssertionError | OutOfMemoryError e) {
          r = CheckResult.broke(id, target, check.method(ctx), e);
        }
        results.add(r);
        progress.step(id, r.status() + (r.available() ? ": " + r.verdict() : ""));
      }
    } finally {
      if (work == null) {
        deleteTree(root);
      }
    }
    return new CertificationReport(
        Level.of(results),
        Level.score(results),
        profile.name(),
        started,
        Instant.now(),
        results,
        List.copyOf(selected),
        environment,
        CertificationReport.NOT_TESTED);
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Configures a certification. */
  public static final class Builder {
    private Profile profile = Profile.quick();
    private Targets targets = Targets.defaults();
    private Set<CheckId> selected = EnumSet.allOf(CheckId.class);
    private Progress progress = Progress.NONE;
    private Path work;
    private Environment environment;
    private final Map<CheckId, Check> checks = standardChecks();

    private Builder() {}

    /** The sizes (default {@link Profile#quick()}). */
    public Builder profile(Profile profile) {
      this.profile = Objects.requireNonNull(profile, "profile");
      return this;
    }

    /** The targets (default {@link Targets#defaults()}). */
    public Builder targets(Targets targets) {
      this.targets = Objects.requireNonNull(targets, "targets");
      return this;
    }

    /** Runs only these checks; the others are reported as not run, and count as failed. */
    public Builder only(Set<CheckId> checks) {
      if (checks.isEmpty()) {
        throw new IllegalArgumentException("select at least one check");
      }
      this.selected = EnumSet.copyOf(checks);
      return this;
    }

    /** Hears each step (default: nothing). */
    public Builder progress(Progress progress) {
      this.progress = Objects.requireNonNull(progress, "progress");
      return this;
    }

    /**
     * Keeps the checks' files (journals, stores, node logs) under {@code dir}; by default they go
     * to a temporary folder removed at the end.
     */
    public Builder workDir(Path dir) {
      this.work = dir;
      return this;
    }

    /** The environment to report (default: {@link Environment#current} without a commit). */
    public Builder environment(Environment environment) {
      this.environment = Objects.requireNonNull(environment, "environment");
      return this;
    }

    /** Replaces a check: how the tests give a check a subject broken on purpose. */
    Builder check(Check check) {
      checks.put(check.id(), check);
      return this;
    }

    /** The certification, ready to run. */
    public Certification build() {
      if (environment == null) {
        environment = Environment.current("unknown", null);
      }
      return new Certification(this);
    }
  }
}
