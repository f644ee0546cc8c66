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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
          + " 6 recovery, 7 security (active probes on cfn serve), 8 monitoring (the node's"
          + " /metrics scraped under load), 9 integrity, 10 network resilience (the testkit's fault"
          + " proxy before the model server and the API).",
      "What the nodes log (their expected warnings included) goes to their log files in the"
          + " checks' folders, kept with --work DIR; the terminal shows the progress and the"
          + " report.",
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

  @Option(
      names = "--json",
      arity = "0..1",
      fallbackValue = STDOUT,
      paramLabel = "FILE",
      description =
          "Prints the report as JSON on stdout instead of the table; --json FILE writes it to FILE"
              + " and prints the table.")
  String json;

  /** What {@code --json} without a file stands for: standard output. */
  static final String STDOUT = "-";

  @Option(
      names = "--no-save",
      description =
          "Does not save the report as HOME/.cfn/certify/certification.json (saved by default,"
              + " replacing the previous one: the dashboard and GET /v1/certify/latest show it).")
  boolean noSave;

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
    Path jsonFile = null;
    if (json != null && !STDOUT.equals(json)) {
      if (json.isBlank()) {
        throw CommandFailure.usage(
            "--json needs a file name, not an empty one",
            "give a file, e.g. --json certification.json, or --json alone for stdout");
      }
      jsonFile = PathChecks.outputFile("--json", Path.of(json));
    }
    if (out != null) {
      PathChecks.folder("--out", out);
    }
    if (work != null) {
      PathChecks.folder("--work", work);
    }
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter stdout = spec.commandLine().getOut();
    Path home = home();
    Environment env = Environment.current(version(), home);
    err.printf(
        Locale.ROOT,
        "cfn certify: profile %s; %s; load average %s; %s%n",
        p.name(),
        env.describe(),
        env.loadAverage(),
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
    String text = ReportFiles.json(report);
    if (out != null) {
      ReportFiles.write(report, out);
    }
    if (!noSave) {
      save(text, home, err);
    }
    if (jsonFile != null) {
      Path parent = jsonFile.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(jsonFile, text, StandardCharsets.UTF_8);
    }
    if (STDOUT.equals(json)) {
      stdout.print(text);
      stdout.flush();
      printNotTested(err, report); // stdout holds the JSON alone
    } else {
      printTable(stdout, report);
      stdout.printf(
          Locale.ROOT,
          "Load average (1, 5, 15 min): %s at the start, %s at the end; figures measured while"
              + " other work runs are noisy%n",
          report.environment().loadAverage(),
          Environment.loadAverageNow());
      if (jsonFile != null) {
        stdout.println("wrote " + jsonFile.toAbsolutePath());
      }
      if (out != null) {
        stdout.println(
            "wrote "
                + out.resolve(ReportFiles.JSON)
                + ", "
                + ReportFiles.MARKDOWN
                + ", "
                + ReportFiles.HTML);
      }
      printNotTested(stdout, report); // last: what the figures above do not cover
    }
    stdout.flush();
    if (!only.isEmpty()) {
      return report.selectedPassed() ? ExitCode.OK : ExitCode.FAILED;
    }
    return report.level().exitCode();
  }

  /** The home whose {@code .cfn/certify} keeps the latest report: {@code cfn.home}, else here. */
  static Path home() {
    String home = System.getProperty("cfn.home");
    return home != null ? Path.of(home).toAbsolutePath() : Path.of("").toAbsolutePath();
  }

  /**
   * Saves the report as the home's latest. A failure does not undo the run: it is said on stderr,
   * with the fix, and the exit status stays the level's.
   */
  private static void save(String text, Path home, PrintWriter err) {
    try {
      Path file = ReportFiles.saveLatest(text, home);
      err.println("cfn certify: saved the report as " + file);
    } catch (IOException | RuntimeException e) {
      err.println(
          "cfn certify: could not save the report as "
              + ReportFiles.latest(home)
              + ": "
              + e
              + " (fix: make "
              + home.resolve(ReportFiles.LATEST_DIR)
              + " writable, or pass --no-save; --out DIR writes the report elsewhere)");
    }
    err.flush();
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
    Environment env = r.environment();
    out.printf(
        Locale.ROOT,
        "%nMachine: %s%ncfn %s, commit %s%n",
        env.describe(),
        env.cfnVersion(),
        env.gitCommit());
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

  /**
   * What this run did not test, at the end of the run: the checks not run (not selected, or NOT
   * AVAILABLE, with the reason), then what no check tests ({@link CertificationReport#notTested()},
   * the list the JSON and markdown reports carry).
   */
  static void printNotTested(PrintWriter out, CertificationReport r) {
    out.println();
    out.println("Not tested by this run:");
    List<String> notRun = new ArrayList<>();
    for (CheckResult c : r.checks()) {
      if (!r.selected().contains(c.id())) {
        notRun.add(c.id().key());
      } else if (!c.available()) {
        out.println("  - check " + c.id().key() + " could not run: " + c.verdict());
      }
    }
    if (!notRun.isEmpty()) {
      out.println(
          "  - checks not selected (--check), so not run: " + String.join(", ", notRun) + ".");
    }
    for (String item : r.notTested()) {
      out.println("  - " + item);
    }
    out.flush();
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
