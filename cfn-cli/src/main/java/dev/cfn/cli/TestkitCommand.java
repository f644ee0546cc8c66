package dev.cfn.cli;

import dev.cfn.testkit.Cassette;
import dev.cfn.testkit.ModelServer;
import java.io.PrintWriter;
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
final class TestkitCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

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
        description = "Stop after this long, ISO-8601 such as PT10M (default: no limit).")
    Duration duration;

    void validate() {
      if (requests != null && requests < 1) {
        throw new IllegalArgumentException("--requests must be at least 1, was " + requests);
      }
      if (duration != null && (duration.isNegative() || duration.isZero())) {
        throw new IllegalArgumentException("--for must be positive, was " + duration);
      }
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
      if (upstream.getScheme() == null || !upstream.getScheme().startsWith("http")) {
        throw new IllegalArgumentException(
            "--upstream must be an http(s) URL such as https://api.openai.com, was " + upstream);
      }
      Path parent = cassette.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (ModelServer server = ModelServer.recording(upstream, cassette, until.port)) {
        printAddresses(spec.commandLine().getOut(), server, "recording " + upstream);
        until.await(server);
        spec.commandLine()
            .getOut()
            .println("recorded " + server.requests().size() + " requests to " + cassette);
      }
      return 0;
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
      if (!Files.isRegularFile(cassette)) {
        throw new IllegalArgumentException(
            "no cassette at " + cassette + "; record one with cfn testkit record");
      }
      Cassette recorded = Cassette.load(cassette);
      try (ModelServer server = ModelServer.start(recorded, until.port)) {
        printAddresses(
            spec.commandLine().getOut(),
            server,
            "serving " + recorded.size() + " recorded exchanges from " + cassette);
        until.await(server);
        spec.commandLine().getOut().println("served " + server.requests().size() + " requests");
      }
      return 0;
    }
  }
}
