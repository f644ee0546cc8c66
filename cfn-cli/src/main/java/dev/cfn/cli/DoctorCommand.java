package dev.cfn.cli;

import dev.cfn.cluster.nats.NatsServerCheck;
import dev.cfn.cluster.nats.NatsServerCheck.Finding;
import dev.cfn.cluster.nats.NatsServerCheck.Severity;
import dev.cfn.cluster.nats.Subjects;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn doctor}: checks the servers a cluster node would use before it joins. For now NATS:
 * through its monitoring port ({@code /varz}, {@code /jsz}: version, fsync setting, cluster, the
 * stream's replicas) and through its client port (JetStream answers, the stream's followers are
 * current). Read-only: it creates nothing, not even the stream.
 *
 * <p>Exit status: 0 when every finding is OK; 1 when any is a warning or an error (a warning means
 * a weaker guarantee than production needs, such as nats-server 2.9's fsync every 2 minutes or an
 * R1 stream; the line says what to change) or a server cannot be reached; 2 for bad input.
 */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = {
      "Checks the NATS servers a cluster node would use: version, fsync, cluster, the stream's"
          + " replicas. Read-only.",
      "Exit 0 when all is as production needs, 1 on any warning or error (each line names the"
          + " fix), 2 on bad input."
    })
final class DoctorCommand implements Callable<Integer> {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  @Spec CommandSpec spec;

  @Option(
      names = "--nats",
      paramLabel = "URL",
      description =
          "A NATS client URL, e.g. nats://127.0.0.1:4222 (credentials are never printed).")
  String nats;

  @Option(
      names = "--nats-monitor",
      paramLabel = "URL",
      description = "The server's monitoring URL (its 'http' port), e.g. http://127.0.0.1:8222.")
  String natsMonitor;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      defaultValue = "default",
      description =
          "The cluster's namespace, whose stream is CFN_<NS> (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Override
  public Integer call() throws InterruptedException {
    if (nats == null && natsMonitor == null) {
      throw CommandFailure.usage(
          "nothing to check",
          "give --nats nats://HOST:4222 and/or --nats-monitor http://HOST:8222");
    }
    Subjects subjects = Subjects.of(namespace); // IllegalArgumentException: exit 2 with the fix
    String stream = "CFN_" + subjects.namespace().toUpperCase(Locale.ROOT).replace('-', '_');
    NatsServerCheck monitor = null;
    if (natsMonitor != null) {
      monitor = new NatsServerCheck(natsMonitor, TIMEOUT); // validates before anything runs
    }
    if (nats != null) {
      NatsServerCheck.clientUri(nats);
    }
    List<Finding> findings = new ArrayList<>();
    if (monitor != null) {
      try {
        findings.addAll(monitor.run(stream).findings());
      } catch (IOException e) {
        throw CommandFailure.failed(
            "cannot read " + natsMonitor + ": " + e.getMessage(),
            "check that the server runs with 'http: PORT' in its config and that the URL is its"
                + " monitoring port");
      }
    }
    if (nats != null) {
      try {
        findings.addAll(NatsServerCheck.throughClient(nats, stream, TIMEOUT));
      } catch (IOException e) {
        throw CommandFailure.failed(e.getMessage(), "check that nats-server runs and the URL");
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    int warnings = 0;
    int errors = 0;
    for (Finding f : findings.stream().distinct().toList()) { // both paths report the version
      out.printf("%-8s %s%n", f.severity().name().toLowerCase(Locale.ROOT), f.text());
      if (f.severity() == Severity.WARNING) {
        warnings++;
      } else if (f.severity() == Severity.ERROR) {
        errors++;
      }
    }
    out.printf(
        "%d warning%s, %d error%s%n",
        warnings, warnings == 1 ? "" : "s", errors, errors == 1 ? "" : "s");
    out.flush();
    return warnings + errors == 0 ? ExitCode.OK : ExitCode.FAILED;
  }
}
