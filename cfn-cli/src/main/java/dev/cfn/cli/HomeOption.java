package dev.cfn.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --home DIR} option of the commands that work on a project's {@code .cfn} folder
 * ({@code audit}, {@code keys}): state lives in {@code DIR/.cfn}; the default is the current
 * folder.
 */
final class HomeOption {
  @Option(
      names = "--home",
      paramLabel = "DIR",
      description = "The project folder whose .cfn/ holds the state (default: the current folder).")
  Path home = Path.of(".");

  /** {@code DIR/.cfn}, after checking that DIR is an existing folder. */
  Path cfnDir() {
    if (!Files.exists(home)) {
      throw CommandFailure.usage(
          "no folder " + home.toAbsolutePath(),
          "give the project folder (the one holding .cfn) with --home DIR");
    }
    if (!Files.isDirectory(home)) {
      throw CommandFailure.usage(
          "--home " + home + " is a file, not a folder",
          "give the project folder (the one holding .cfn) with --home DIR");
    }
    return home.resolve(".cfn");
  }
}
