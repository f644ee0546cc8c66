package dev.cfn.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options every {@code cfn chaos} scenario takes (a picocli mixin): how many SIGKILLs, how long
 * a worker runs before its kill, the random seed of those moments, the figures file and the work
 * folder. Each scenario gives its own defaults by initializing its mixin field.
 */
final class KillOptions {
  @Option(
      names = "--kills",
      paramLabel = "N",
      description =
          "SIGKILLs to deliver, one worker JVM killed each time (default ${DEFAULT-VALUE}).")
  int kills;

  @Option(
      names = "--min-ms",
      paramLabel = "MS",
      description =
          "Shortest run before a kill, ms, from the worker's first piece of work (default"
              + " ${DEFAULT-VALUE}).")
  int minMs;

  @Option(
      names = "--max-ms",
      paramLabel = "MS",
      description = "Longest run before a kill, ms (default ${DEFAULT-VALUE}).")
  int maxMs;

  @Option(names = "--seed", paramLabel = "N", description = "Random seed for the kill moments.")
  Long seed;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the figures to FILE.")
  Path json;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description = "Work folder, kept afterwards (default: a new temporary one).")
  Path dir;

  /** For picocli; the scenarios use {@link #KillOptions(int, int, int)}. */
  KillOptions() {
    this(10, 20, 400);
  }

  KillOptions(int kills, int minMs, int maxMs) {
    this.kills = kills;
    this.minMs = minMs;
    this.maxMs = maxMs;
  }

  /** Refuses bad values before any worker starts. */
  void check() {
    ValueConverters.atLeast("--kills", kills, 0);
    ValueConverters.atLeast("--min-ms", minMs, 0);
    if (maxMs < minMs) {
      throw CommandFailure.usage(
          "--max-ms " + maxMs + " is below --min-ms " + minMs, "give --max-ms >= --min-ms");
    }
  }

  /** Writes {@code figures} to the {@code --json} file, if any, and says so. */
  void writeFigures(Map<String, Object> figures, PrintWriter out) throws IOException {
    if (json == null) {
      return;
    }
    Path parent = json.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(json.toFile(), figures);
    out.println("wrote " + json.toAbsolutePath());
  }
}
