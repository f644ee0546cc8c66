package dev.cfn.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --db} option shared by the commands that work on a journal file. */
final class StoreOptions {
  /** Where an embedded runtime keeps its journal when nothing else is configured. */
  static final Path DEFAULT_DB = Path.of(".cfn", "cfn.db");

  @Option(
      names = "--db",
      paramLabel = "FILE",
      description = "The journal file (default: .cfn/cfn.db, the embedded default).")
  Path db = DEFAULT_DB;
}
