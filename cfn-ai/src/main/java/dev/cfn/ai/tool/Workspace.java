package dev.cfn.ai.tool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The directory the file tools work in, and the one rule that keeps them there: a path the model
 * gives is relative, has no {@code ..}, and once every symbolic link on it is resolved still lies
 * inside the workspace's real path. A path that breaks the rule is refused with {@link
 * PathRefusedException}; nothing is read or written.
 *
 * <p>This keeps a model's mistakes (or a prompt injection's attempts) inside the workspace. It is
 * not a sandbox against other processes changing the directory tree between the check and the use;
 * writes open the final file with {@link LinkOption#NOFOLLOW_LINKS} to narrow that window.
 */
final class Workspace {
  private static final Pattern WINDOWS_ABSOLUTE = Pattern.compile("^[A-Za-z]:.*");

  private final Path root;

  /**
   * The workspace {@code directory}, which must exist.
   *
   * @throws IllegalArgumentException when it is not a directory
   */
  Workspace(Path directory) {
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException(
          "workspace " + directory + " is not a directory; create it or configure another one");
    }
    try {
      this.root = directory.toRealPath();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "workspace " + directory + " cannot be resolved: " + e.getMessage(), e);
    }
  }

  Path root() {
    return root;
  }

  /** A path the model gave was refused; the message says why, for the model. */
  static final class PathRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    PathRefusedException(String message) {
      super(message);
    }
  }

  /**
   * The real location of {@code given} inside the workspace: the real path of its deepest existing
   * part, followed by the parts that do not exist yet.
   *
   * @throws PathRefusedException when the path is absolute, has {@code ..}, is malformed, or leads
   *     outside the workspace through a symbolic link
   */
  Path resolve(String given) throws PathRefusedException {
    if (given.indexOf('\0') >= 0) {
      throw new PathRefusedException("the path contains a NUL character");
    }
    if (given.startsWith("/")
        || given.startsWith("\\")
        || WINDOWS_ABSOLUTE.matcher(given).matches()) {
      throw new PathRefusedException(
          "absolute paths are not allowed; give a path relative to the workspace");
    }
    Path relative;
    try {
      relative = Path.of(given);
    } catch (InvalidPathException e) {
      throw new PathRefusedException("the path is malformed: " + e.getReason());
    }
    if (relative.isAbsolute()) {
      throw new PathRefusedException(
          "absolute paths are not allowed; give a path relative to the workspace");
    }
    for (Path part : relative) {
      if (part.toString().equals("..")) {
        throw new PathRefusedException(
            "'..' is not allowed in paths; give a path inside the workspace");
      }
    }
    Path target = root.resolve(relative).normalize();
    if (!target.startsWith(root)) {
      throw new PathRefusedException("the path leads outside the workspace");
    }
    Path existing = target;
    while (!Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    Path real;
    try {
      real = existing.toRealPath();
    } catch (NoSuchFileException e) {
      throw new PathRefusedException("the path goes through a symbolic link that points nowhere");
    } catch (IOException e) {
      throw new PathRefusedException("the path cannot be resolved: " + e.getMessage());
    }
    if (!real.startsWith(root)) {
      throw new PathRefusedException(
          "the path leads outside the workspace through a symbolic link");
    }
    return real.resolve(existing.relativize(target));
  }

  /** {@code path} relative to the workspace, for messages. */
  String display(Path path) {
    String shown = root.relativize(path).toString();
    return shown.isEmpty() ? "." : shown;
  }
}
