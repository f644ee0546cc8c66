package dev.cfn.cli;

import dev.cfn.certify.Certification;
import dev.cfn.certify.CertificationReport;
import dev.cfn.certify.CheckId;
import dev.cfn.certify.CheckResult;
import dev.cfn.certify.Environment;
import dev.cfn.certify.Profile;
import dev.cfn.certify.ReportFiles;
import dev.cfn.certify.Targets;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cfn certify}: the seed's production certification, measured on this machine. */
@Command(
    name = "certify",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the seed's ten production checks on the real system and reports the level (FULL,"
          + " PARTIAL, FAILED by the seed's rules), the score and every figure beside the seed's"
          + " claim.",
      "All ten run: 1 latency, 2 throughput, 3 coordination, 4 reliability (a node in a child JVM,"
          + " SIGKILLed), 5 uptime (cfn serve in a child JVM, probed under load and SIGKILLs),"
          + " 6 recovery, 7 security (active probes on cfn serve), 8 monitoring (/metrics; NOT"
          + " AVAILABLE, counted as failed, while the node has none), 9 integrity, 10 network"
          + " resilience (the testkit's fault proxy before the model server and the API).",
      "Exit status: 0 FULL, 1 PARTIAL, 2 FAILED; with --check, 0 when the checks run passed, 1"
          + " when not. Bad usage also exits 2, with one line cfn certify: ... on stderr."
    })
final class CertifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--profile",
      paramLabel = "NAME",
      description =
          "quick (default: under 2 minutes on 2 cores) or full (the seed's sizes: 100,000"
              + " reliable messages, 10 recoveries, ...).")
  String profile = "quick";

  @Option(
      names = "--targets",
      paramLabel = "FILE",
      description = "Targets to use instead of the seed's, one 'name = value' a line.")
  Path targets;

  @Option(
      names = "--check",
      paramLabel = "NAME",
      split = ",",
      description =
          "Runs only these checks (repeatable or comma-separated): ${COMPLETION-CANDIDATES}.",
      completionCandidates = CheckNames.class)
  List<String> checks = new ArrayList<>();

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Writes certification.json, certification.md and certification.html into DIR.")
  Path out;

  @Option(
      names = "--work",
      paramLabel = "DIR",
      description =
          "Keeps the checks' files (journals, stores, node logs) in DIR (default: removed).")
  Path work;

  @Option(names = "--json", description = "Prints the report as JSON on stdout.")
  boolean json;

  /** The check names, for the help. */
  static final class CheckNames extends ArrayList<String> {
    private static final long serialVersionUID = 1L;

    CheckNames() {
      for (CheckId id : CheckId.values()) {
        add(id.key());
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    Profile p;
    try {
      p = Profile.named(profile);
    } catch (IllegalArgumentException e) {
      throw CommandFailure.usage(
          "unknown profile '" + profile + "'", "use --profile quick or --profile full");
    }
    Targets t = Targets.defaults();
    if (targets != null) {
      PathChecks.existingFile("--targets", targets, "targets file");
      try {
        t = Targets.load(targets);
      } catch (IOException e) {
        throw CommandFailure.usage(
            "cannot read the targets file " + targets.toAbsolutePath() + ": " + e.getMessage(),
            "give a readable text file of 'name = value' lines");
      } catch (IllegalArgumentException e) {
        throw usage(e);
      }
    }
    Set<CheckId> only = EnumSet.noneOf(CheckId.class);
    for (String name : checks) {
      try {
        only.add(CheckId.of(name));
      } catch (IllegalArgumentException e) {
        throw usage(e);
      }
    }
    if (out != null) {
      PathChecks.folder("--out", out);
    }
    if (work != null) {
      PathChecks.folder("--work", work);
    }
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter stdout = spec.commandLine().getOut();
    String home = System.getProperty("cfn.home");
    Environment env =
        Environment.current(version(), home != null ? Path.of(home) : Path.of("").toAbsolutePath());
    err.printf(
        Locale.ROOT,
        "cfn certify: profile %s on %d cores; %s%n",
        p.name(),
        env.cores(),
        only.isEmpty() ? "all ten checks" : "only " + only);
    err.flush();
    long t0 = System.nanoTime();
    Certification.Builder b =
        Certification.builder()
            .profile(p)
            .targets(t)
            .environment(env)
            .workDir(work)
            .progress(
                (check, step) -> {
                  err.printf(
                      Locale.ROOT,
                      "  %5.1f s [%2d %s] %s%n",
                      (System.nanoTime() - t0) / 1e9,
                      check.number(),
                      check.key(),
                      step);
                  err.flush();
                });
    if (!only.isEmpty()) {
      b.only(only);
    }
    CertificationReport report = b.build().run();
    if (out != null) {
      ReportFiles.write(report, out);
    }
    if (json) {
      stdout.print(ReportFiles.json(report));
    } else {
      printTable(stdout, report);
      if (out != null) {
        stdout.println(
            "wrote "
                + out.resolve(ReportFiles.JSON)
                + ", "
                + ReportFiles.MARKDOWN
                + ", "
                + ReportFiles.HTML);
      }
    }
    stdout.flush();
    if (!only.isEmpty()) {
      return report.selectedPassed() ? ExitCode.OK : ExitCode.FAILED;
    }
    return report.level().exitCode();
  }

  private static CommandFailure usage(IllegalArgumentException e) {
    String m = e.getMessage();
    int fix = m.lastIndexOf(" (fix: ");
    return fix < 0
        ? CommandFailure.usage(m, null)
        : CommandFailure.usage(m.substring(0, fix), m.substring(fix + 7, m.length() - 1));
  }

  private static void printTable(PrintWriter out, CertificationReport r) {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {"#", "check", "critical", "target", "measured", "status", "seed claimed"});
    for (CheckResult c : r.checks()) {
      rows.add(
          new String[] {
            Integer.toString(c.id().number()),
            c.id().key(),
            c.id().critical() ? "yes" : "no",
            c.targetText(),
            c.measuredText(),
            c.status(),
            c.id().seedClaim()
          });
    }
    Table.print(out, rows);
    out.printf(
        Locale.ROOT,
        "%nLevel %s, score %.1f %% (%d of %d checks passed; profile %s)%n",
        r.level(),
        r.score(),
        r.passedCount(),
        r.checks().size(),
        r.profile());
    for (CheckResult c : r.checks()) {
      if (c.available() && !c.passed()) {
        out.println("  " + c.id().key() + ": " + c.verdict());
      }
    }
  }

  private static String version() {
    try {
      String v = new Main.Version().getVersion()[0];
      return v.startsWith("cfn ") ? v.substring(4) : v;
    } catch (IOException e) {
      return "unknown";
    }
  }
}
