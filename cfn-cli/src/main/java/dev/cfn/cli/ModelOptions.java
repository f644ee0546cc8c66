package dev.cfn.cli;

import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ProviderTrust;
import dev.cfn.testkit.Cassette;
import dev.cfn.testkit.ModelServer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where the model calls of {@code cfn swarm run} and {@code cfn task submit|resume} go: the
 * providers of {@code .cfn/providers.yaml} in {@code --project} and the environment, as for {@code
 * cfn run}, or a cassette ({@code --replay}) answered by the test model server on loopback.
 */
final class ModelOptions {
  @Option(
      names = "--project",
      paramLabel = "DIR",
      description = "Where .cfn/providers.yaml is looked up (default: the current folder).")
  Path project = Path.of(".");

  @Option(
      names = "--replay",
      paramLabel = "CASSETTE",
      description =
          "Answer the model calls from a cassette (cfn testkit record) instead of a provider:"
              + " offline, no key.")
  Path replay;

  @Option(
      names = "--trust-providers",
      description = "Trust the project's .cfn/providers.yaml as it is now (see cfn run --help).")
  boolean trustProviders;

  /** The providers to use, and the replay server to close after (null without --replay). */
  record Models(ModelConfig config, ModelServer replayServer) implements AutoCloseable {
    @Override
    public void close() {
      if (replayServer != null) {
        replayServer.close();
      }
    }
  }

  /** Checks the options (bad input exits 2 before anything runs). */
  void validate() {
    if (!Files.isDirectory(project)) {
      throw CommandFailure.usage(
          "--project " + project + " is not a folder", "give an existing folder");
    }
    if (replay != null) {
      PathChecks.existingFile("--replay", replay, "cassette");
    }
  }

  /** Opens the providers; {@code command} names the command in warnings. */
  Models open(PrintWriter err, String command) {
    if (replay != null) {
      Cassette cassette = TestkitCommand.load(replay);
      if (cassette.size() == 0) {
        throw CommandFailure.usage(
            replay + " holds no recorded calls", "record some with cfn testkit record");
      }
      System.setProperty(
          "org.slf4j.simpleLogger.log.dev.cfn.ai.budget.PriceTable",
          System.getProperty("org.slf4j.simpleLogger.log.dev.cfn.ai.budget.PriceTable", "error"));
      ModelServer server = ModelServer.start(cassette);
      return new Models(RunCommand.replayConfig(cassette, server), server);
    }
    ProviderTrust trust = ProviderTrust.load(RunCommand.environment);
    Path providersFile = project.resolve(ModelConfig.DEFAULT_FILE);
    if (trustProviders && Files.isRegularFile(providersFile)) {
      trust = trust.trust(providersFile);
    }
    ModelConfig config = ModelConfig.discover(project, RunCommand.environment, trust);
    for (String warning : config.warnings()) {
      err.println(command + ": warning: " + warning);
    }
    return new Models(config, null);
  }
}
