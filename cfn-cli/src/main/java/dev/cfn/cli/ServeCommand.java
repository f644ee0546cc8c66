package dev.cfn.cli;

import dev.cfn.server.CfnServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn serve}: runs the node as an HTTPS server ({@link CfnServer}) over the state of {@code
 * HOME/.cfn} until SIGTERM or Ctrl-C, which stop it cleanly (requests in progress finish, the
 * runtime drains, the stores close). Prints {@code listening on https://127.0.0.1:PORT} and the
 * certificate's SHA-256 fingerprint once it answers.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Runs this node as an HTTPS API server (TLS 1.3, bearer tokens from cfn token create).",
      "State under HOME/.cfn: the journal, memory, tokens and tls/ (a self-signed certificate is"
          + " generated on the first start). Stops cleanly on SIGTERM or Ctrl-C."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--port",
      paramLabel = "N",
      description = "The port (default: 8443; 0 for any free port).")
  int port = CfnServer.DEFAULT_PORT;

  @Option(
      names = "--home",
      paramLabel = "DIR",
      description = "The folder whose .cfn holds the node's state (default: the current folder).")
  Path home = Path.of(".");

  @Option(
      names = "--bind",
      paramLabel = "ADDR",
      description = "The address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface).")
  String bind = CfnServer.DEFAULT_BIND;

  @Option(
      names = "--insecure-http",
      description =
          "Serve plain HTTP without TLS (tokens cross the network in clear text): for a trusted"
              + " loopback only; a warning is logged at every start.")
  boolean insecureHttp;

  @Option(
      names = "--backup-every",
      paramLabel = "DURATION",
      description =
          "Take a verified backup set of the journal, memory and call log this often (such as 1m);"
              + " off by default.")
  java.time.Duration backupEvery;

  @Option(
      names = "--backup-dir",
      paramLabel = "DIR",
      description = "Where the backup sets go (default: HOME/.cfn/backups).")
  Path backupDir;

  @Option(
      names = "--backup-keep",
      paramLabel = "N",
      description = "How many backup sets to keep (default: 24).")
  int backupKeep = 24;

  @Override
  public Integer call() throws Exception {
    if (backupEvery != null && backupEvery.compareTo(java.time.Duration.ofSeconds(1)) < 0) {
      throw CommandFailure.usage(
          "--backup-every must be at least 1s, was " + backupEvery, "such as --backup-every 1m");
    }
    if (backupKeep < 1) {
      throw CommandFailure.usage(
          "--backup-keep must be at least 1, was " + backupKeep, "such as --backup-keep 24");
    }
    if ((backupDir != null) && backupEvery == null) {
      throw CommandFailure.usage(
          "--backup-dir without --backup-every", "add --backup-every, such as --backup-every 1m");
    }
    if (port < 0 || port > 65535) {
      throw CommandFailure.usage(
          "--port must be 0 to 65535, was " + port, "such as --port 8443, or 0 for any free one");
    }
    if (!Files.isDirectory(home)) {
      throw CommandFailure.usage("--home " + home + " is not a folder", "give an existing folder");
    }
    if (bind.isBlank()) {
      throw CommandFailure.usage("--bind is empty", "such as --bind 127.0.0.1");
    }
    try {
      InetAddress.getByName(bind);
    } catch (UnknownHostException e) {
      throw CommandFailure.usage(
          "--bind " + bind + " is not an address of this machine",
          "such as --bind 127.0.0.1, or 0.0.0.0 for every interface");
    }
    PrintWriter out = spec.commandLine().getOut();
    CfnServer.Builder builder =
        CfnServer.builder(home).port(port).bind(bind).insecureHttp(insecureHttp);
    if (backupEvery != null) {
      builder.backups(
          backupDir != null ? backupDir : home.resolve(".cfn").resolve("backups"),
          backupEvery,
          backupKeep);
    }
    CfnServer server;
    try {
      server = builder.start();
    } catch (dev.cfn.server.alerts.AlertConfigException e) {
      throw CommandFailure.usage(
          e.getMessage(),
          e.getMessage().contains("(fix:") ? null : "edit .cfn/alerts.yaml (docs/metrics.md)");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              try {
                server.close();
                out.println("stopped");
                out.flush();
              } finally {
                stopped.countDown();
              }
            },
            "cfn-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    out.println("listening on " + server.url());
    out.println(
        server
            .fingerprint()
            .map(f -> "certificate SHA-256 fingerprint " + f)
            .orElse("plain HTTP (--insecure-http): no certificate"));
    out.println("dashboard " + server.url() + "/ui/ (sign in with a token: cfn token create)");
    out.flush();
    stopped.await();
    return ExitCode.OK;
  }
}
