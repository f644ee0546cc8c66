package dev.cfn.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code cfn} command. Run it through the {@code ./cfn} launcher at the project root.
 *
 * <p>Every command reports a failure through {@link ErrorReport} (one line, an {@link ExitCode}),
 * reads durations, paths and numbers through {@link ValueConverters}, and logs to standard error at
 * WARN unless {@code -v} or {@code --debug} ({@link Logging}).
 */
@Command(
    name = "cfn",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "cfn: a Java agent-orchestration runtime with a measured message bus.",
    footerHeading = "%nConventions:%n",
    footer = {
      "  Durations: 250ms, 10s, 5m, 1h, 7d (or ISO-8601: PT10M).",
      "  Errors: one line on stderr, cfn <command>: what is wrong (fix: ...).",
      "  Logs: stderr, WARN and above; -v for INFO, --debug for DEBUG and traces.",
      "  --json: the result as JSON on stdout; --json FILE (bench, chaos) writes it.",
      "  Files: --journal FILE, --memory FILE, --calls FILE, --agents PATH."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {},
    subcommands = {
      AgentCommand.class,
      AlertsCommand.class,
      AuditCommand.class,
      BenchCommand.class,
      CertCommand.class,
      CertifyCommand.class,
      ChaosCommand.class,
      DlqCommand.class,
      DoctorCommand.class,
      InitCommand.class,
      KeysCommand.class,
      LoopCommand.class,
      McpCommand.class,
      MemoryCommand.class,
      RunCommand.class,
      ServeCommand.class,
      StoreCommand.Store.class,
      StoreCommand.Backup.class,
      StoreCommand.Restore.class,
      StatusCommand.class,
      SwarmCommand.class,
      TaskCommand.class,
      TestkitCommand.class,
      TokenCommand.class,
      RolloutCommand.class,
      DrCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "Log at INFO on standard error (default: WARN and above only).")
  void verbose(boolean on) {
    if (on) {
      Logging.level("info");
    }
  }

  @Option(
      names = "--debug",
      scope = ScopeType.INHERIT,
      description = "Log at DEBUG and print the stack trace of a failure.")
  void debug(boolean on) {
    if (on) {
      Logging.level("debug");
    }
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    Logging.fromArguments(args); // before any class makes its logger, building the commands does
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    ValueConverters.register(cl);
    ErrorReport.install(cl);
    cl.setUsageHelpAutoWidth(true);
    cl.setUsageHelpLongOptionsMaxWidth(30);
    cl.getCommandSpec().usageMessage().exitCodeList(exitCodes());
    // Everything after `cfn bench jmh` belongs to JMH, whose -v (verbosity) is not ours.
    CommandLine jmh = cl.getSubcommands().get("bench").getSubcommands().get("jmh");
    jmh.getCommandSpec().remove(jmh.getCommandSpec().findOption("-v"));
    jmh.setUnmatchedOptionsArePositionalParams(true);
    return cl;
  }

  private static java.util.Map<String, String> exitCodes() {
    java.util.Map<String, String> codes = new java.util.LinkedHashMap<>();
    for (String line : ExitCode.HELP) {
      int colon = line.indexOf(':');
      codes.put("  " + line.substring(0, colon), line.substring(colon + 1));
    }
    return codes;
  }

  /** Reads the version Maven wrote into the jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("/cfn-version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {
        "cfn " + p.getProperty("version", "unknown"),
        "JVM " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
      };
    }
  }
}
