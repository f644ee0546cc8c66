package dev.cfn.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --journal FILE} option shared by the commands that work on a journal file ({@code --db
 * FILE}, its first spelling, still works but is no longer shown).
 */
final class StoreOptions {
  /** Where an embedded runtime keeps its journal when nothing else is configured. */
  static final Path DEFAULT_DB = Path.of(".cfn", "cfn.db");

  @Option(
      names = "--journal",
      paramLabel = "FILE",
      description = "The journal file (default: .cfn/cfn.db, the embedded default).")
  Path db = DEFAULT_DB;

  @Option(names = "--db", paramLabel = "FILE", hidden = true, description = "Same as --journal.")
  void db(Path file) {
    db = file;
  }

  /** The journal, which must exist; else bad usage naming the option. */
  Path existing() {
    return PathChecks.existingFile("--journal", db, "journal");
  }
}
