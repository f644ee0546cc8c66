package dev.cfn.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cfn} command. Run it through the {@code ./cfn} launcher at the project root. */
@Command(
    name = "cfn",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "cfn: a Java agent-orchestration runtime with a measured message bus.",
    subcommands = {
      AgentCommand.class,
      BenchCommand.class,
      ChaosCommand.class,
      DlqCommand.class,
      MemoryCommand.class,
      RunCommand.class,
      StoreCommand.Store.class,
      StoreCommand.Backup.class,
      StoreCommand.Restore.class,
      TestkitCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Callable<Integer> {

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (ex instanceof IllegalArgumentException
              || ex instanceof dev.cfn.core.JournalException) {
            cmd.getErr().println(cmd.getCommandName() + ": " + ex.getMessage());
            return 2;
          }
          throw ex;
        });
    // Everything after `cfn bench bus` belongs to the benchmark jar, options included.
    cl.getSubcommands().get("bench").setStopAtPositional(true);
    return cl;
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
