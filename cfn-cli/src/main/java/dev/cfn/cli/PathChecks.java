package dev.cfn.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The checks a command makes on the files and folders it is given before it touches anything, each
 * failing as bad usage (exit 2) with a line that names the option, the path and the fix.
 */
final class PathChecks {
  private PathChecks() {}

  /** {@code path} must be an existing regular file (what: "journal", "memory file", ...). */
  static Path existingFile(String option, Path path, String what) {
    if (Files.isDirectory(path)) {
      throw CommandFailure.usage(
          option + " " + path + " is a folder, not a " + what,
          "give the " + what + " itself, e.g. " + option + " " + path.resolve("FILE"));
    }
    if (!Files.exists(path)) {
      throw CommandFailure.usage(
          "no " + what + " at " + path.toAbsolutePath(),
          "pass the right file with " + option + " FILE");
    }
    if (!Files.isReadable(path)) {
      throw CommandFailure.usage(
          "cannot read " + what + " " + path.toAbsolutePath(), "check its permissions");
    }
    return path;
  }

  /** {@code path} is a file to write: it must not be a folder, and its folder must be creatable. */
  static Path outputFile(String option, Path path) {
    if (Files.isDirectory(path)) {
      throw CommandFailure.usage(
          option + " " + path + " is a folder",
          "give a file name, e.g. " + option + " " + path.resolve("out.json"));
    }
    Path parent = path.toAbsolutePath().getParent();
    for (Path p = parent; p != null; p = p.getParent()) {
      if (Files.exists(p)) {
        if (!Files.isDirectory(p)) {
          throw CommandFailure.usage(
              option + " " + path + ": " + p + " is a file, not a folder",
              "choose a path whose folders are folders");
        }
        if (!Files.isWritable(p)) {
          throw CommandFailure.usage(
              option + " " + path + ": cannot write in " + p, "choose a folder you may write to");
        }
        break;
      }
    }
    return path;
  }

  /** {@code path} is a working folder: it may exist (as a folder) or be created. */
  static Path folder(String option, Path path) {
    if (Files.exists(path) && !Files.isDirectory(path)) {
      throw CommandFailure.usage(
          option + " " + path + " is a file, not a folder",
          "give a folder; it is created if missing");
    }
    outputFile(option, path.resolve("x")); // its parents must be folders we may write in
    return path;
  }
}
