package dev.cfn.cli;

import dev.cfn.testkit.Cassette;
import dev.cfn.testkit.ModelServer;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn testkit record|serve}: the test model server of {@code cfn-testkit} from the command
 * line. {@code record} is a proxy on loopback that forwards to a real provider and writes every
 * exchange to a cassette (never the API key); {@code serve} replays a cassette, so a test suite (in
 * any language) runs against recorded answers without a key or a network. Both print the base URLs
 * to give clients, then run until interrupted, {@code --requests N} requests or {@code --for}.
 */
@Command(
    name = "testkit",
    mixinStandardHelpOptions = true,
    description = "Records model-provider cassettes through a proxy, or serves them for tests.",
    subcommands = {TestkitCommand.Record.class, TestkitCommand.Serve.class})
final class TestkitCommand extends CommandGroup {

  /** When a running server stops. */
  static final class Until {
    @Option(
        names = "--port",
        paramLabel = "N",
        description = "Loopback port to listen on (default: 0, any free port).")
    int port;

    @Option(
        names = "--requests",
        paramLabel = "N",
        description =
            "Stop once N model requests have been answered (default: run until interrupted).")
    Integer requests;

    @Option(
        names = "--for",
        paramLabel = "DURATION",
        description = "Stop after this long, such as 30s or 10m (default: no limit).")
    Duration duration;

    void validate() {
      if (port < 0 || port > 65_535) {
        throw CommandFailure.usage(
            "--port must be between 0 and 65535, was " + port, "leave it out for any free port");
      }
      if (requests != null) {
        ValueConverters.atLeast("--requests", requests, 1);
      }
      ValueConverters.positive("--for", duration);
    }

    /** Blocks until the limit is reached or the thread is interrupted. */
    void await(ModelServer server) {
      long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
      try {
        while ((requests == null || server.answered() < requests)
            && System.nanoTime() - deadline < 0) {
          Thread.sleep(50);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static void printAddresses(PrintWriter out, ModelServer server, String what) {
    out.println(what + " on " + server.baseUrl());
    out.println("  OpenAI-compatible clients: base URL " + server.openAiBaseUrl());
    out.println("  Anthropic clients:         base URL " + server.anthropicBaseUrl());
    out.flush();
  }

  @Command(
      name = "record",
      mixinStandardHelpOptions = true,
      description =
          "Proxies to a real provider and records every exchange in a cassette (keys are passed"
              + " through, never written).")
  static final class Record implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--upstream",
        required = true,
        paramLabel = "URL",
        description = "The provider, e.g. https://api.openai.com or https://api.anthropic.com.")
    URI upstream;

    @Option(
        names = "--cassette",
        required = true,
        paramLabel = "FILE",
        description = "The cassette to write (replaced if it exists).")
    Path cassette;

    @picocli.CommandLine.Mixin Until until = new Until();

    @Override
    public Integer call() throws Exception {
      until.validate();
      if (upstream.getScheme() == null
          || !upstream.getScheme().startsWith("http")
          || upstream.getHost() == null) {
        throw CommandFailure.usage(
            "--upstream must be an http(s) URL, was '" + upstream + "'",
            "such as --upstream https://api.openai.com");
      }
      PathChecks.outputFile("--cassette", cassette);
      Path parent = cassette.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (ModelServer server = ModelServer.recording(upstream, cassette, until.port)) {
        printAddresses(spec.commandLine().getOut(), server, "recording " + upstream);
        until.await(server);
        spec.commandLine()
            .getOut()
            .println("recorded " + server.received() + " requests to " + cassette);
      }
      return 0;
    }
  }

  /** Reads a cassette; a file that is not one is bad input, said without a stack trace. */
  static Cassette load(Path cassette) {
    try {
      return Cassette.load(cassette);
    } catch (IllegalArgumentException e) {
      throw CommandFailure.usage(e.getMessage(), "give a file written by cfn testkit record");
    } catch (UncheckedIOException e) {
      throw CommandFailure.usage(
          "cannot read cassette " + cassette + ": " + e.getCause().getMessage(),
          "check the file and its permissions");
    }
  }

  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description = "Serves a cassette: each request gets the recorded answer it matches.")
  static final class Serve implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--cassette",
        required = true,
        paramLabel = "FILE",
        description = "The cassette to replay.")
    Path cassette;

    @picocli.CommandLine.Mixin Until until = new Until();

    @Override
    public Integer call() {
      until.validate();
      if (!Files.exists(cassette)) {
        throw CommandFailure.usage(
            "no cassette at " + cassette.toAbsolutePath(),
            "record one with cfn testkit record, or use examples/quickstart/cassette.json");
      }
      PathChecks.existingFile("--cassette", cassette, "cassette");
      Cassette recorded = load(cassette);
      try (ModelServer server = ModelServer.start(recorded, until.port)) {
        printAddresses(
            spec.commandLine().getOut(),
            server,
            "serving " + recorded.size() + " recorded exchanges from " + cassette);
        until.await(server);
        spec.commandLine().getOut().println("served " + server.received() + " requests");
      }
      return 0;
    }
  }
}
