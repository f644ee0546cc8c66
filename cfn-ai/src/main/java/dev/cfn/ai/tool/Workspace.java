package dev.cfn.ai.tool;

import dev.cfn.ai.internal.os.Linux;
import dev.cfn.ai.internal.os.Linux.ErrnoException;
import dev.cfn.ai.internal.os.Linux.Stat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The directory the file tools work in, and the rules that keep them there and away from cfn's own
 * files.
 *
 * <p><b>Inside, in the kernel.</b> A path the model gives is relative and has no {@code ..}; it is
 * then opened with Linux {@code openat2} beneath a descriptor of the workspace root with {@code
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV}, and all I/O
 * happens on that descriptor. The kernel refuses any symbolic link on the path and any step
 * outside, at the moment of the open, so a directory swapped for a symbolic link between a check
 * and a use (a {@code renameat2} exchange loop) cannot lead a read or a write outside: there is no
 * separate check. The file tools therefore follow no symbolic links at all, not even those that
 * stay inside. A regular file with more than one hard link is refused for reading and writing,
 * since its other name may be outside the workspace.
 *
 * <p><b>Never cfn's own files.</b> Whatever the workspace, these are refused for reading, writing
 * and listing, and left out of listings: any path through a directory named {@code .cfn}, {@code
 * .claude} or {@code .git} (agent definitions, provider configuration, stores, repository hooks:
 * what cfn or a developer tool would later load as configuration), and any file whose name looks
 * like a store ({@code *.db}, {@code *.sqlite}, {@code *.sqlite3}, {@code *-wal}, {@code *-shm},
 * {@code *-journal}) or like the lock file of one: cfn-store's {@code LockFile} locks {@code
 * <store>.lock} beside the store, so {@code *.db.lock}, {@code *.sqlite.lock} and the like are
 * refused (opening and closing a lock file the JVM holds would drop its POSIX lock), while a
 * project's own lock files ({@code Cargo.lock}, {@code yarn.lock}, {@code package-lock.json}) are
 * ordinary files. A file that starts with the SQLite header ({@code SQLite format 3\0}) is refused
 * for reading and overwriting whatever its name. A workspace that itself lies inside such a
 * directory is refused when it is configured.
 *
 * <p><b>Not a source tree.</b> The rules protect cfn's files and a repository's metadata, not the
 * build of a project: a model may still write a {@code pom.xml}, {@code .mvn/}, {@code
 * package.json} script or {@code Makefile} that runs when someone builds there. Make the workspace
 * a folder of its own, not a source tree the user rebuilds.
 *
 * <p><b>One file system.</b> Opens also use {@code RESOLVE_NO_XDEV}: no path may cross a mount
 * point (a bind mount of another directory into the workspace, or a file system mounted below it).
 *
 * <p><b>Elsewhere.</b> This needs Linux 5.6 or later on x86_64 or aarch64 ({@code openat2} through
 * the FFM API). On any other system, or an older kernel, every file tool call is refused with an
 * error that says so: the tools fail closed rather than fall back to a check-then-use path.
 */
final class Workspace {
  private static final Pattern WINDOWS_ABSOLUTE = Pattern.compile("^[A-Za-z]:.*");

  /** Directories holding cfn's (and developer tools') own configuration and stores. */
  static final Set<String> PROTECTED_DIRECTORIES = Set.of(".cfn", ".claude", ".git");

  /** Name endings of store files (SQLite databases and their companions). */
  static final List<String> STORE_SUFFIXES =
      List.of(".db", ".sqlite", ".sqlite3", "-wal", "-shm", "-journal");

  /** What cfn-store's {@code LockFile} appends to a store's name. */
  private static final String LOCK_SUFFIX = ".lock";

  /** The first 16 bytes of every SQLite database file. */
  private static final byte[] SQLITE_MAGIC =
      "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private static final long RESOLVE =
      Linux.RESOLVE_BENEATH
          | Linux.RESOLVE_NO_SYMLINKS
          | Linux.RESOLVE_NO_MAGICLINKS
          | Linux.RESOLVE_NO_XDEV;

  private final Path root;

  /**
   * The workspace {@code directory}, which must exist and must not lie inside {@code .cfn}, {@code
   * .claude} or {@code .git}.
   *
   * @throws IllegalArgumentException when it is not a directory or lies in a protected directory
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
    for (Path part : root) {
      if (isProtectedDirectory(part.toString())) {
        throw new IllegalArgumentException(
            "workspace "
                + directory
                + " lies inside "
                + part
                + ", which holds cfn's own configuration and stores (fix: give the file tools a"
                + " workspace folder of its own, such as ./workspace)");
      }
    }
  }

  Path root() {
    return root;
  }

  /**
   * A path the model gave was refused; the message says why, for the model, and {@link #kind()}
   * names the rule in a few fixed words, for the audit (which never records the path).
   */
  static final class PathRefusedException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String kind;

    PathRefusedException(String kind, String message) {
      super(message);
      this.kind = kind;
    }

    String kind() {
      return kind;
    }
  }

  /**
   * A path that is allowed but cannot be used as asked (missing, a directory, ...): for the model.
   */
  static final class FileProblemException extends Exception {
    private static final long serialVersionUID = 1L;

    FileProblemException(String message) {
      super(message);
    }
  }

  /** A file or directory opened beneath the workspace; closing releases the descriptor. */
  static final class Opened implements AutoCloseable {
    final int fd;
    final Stat stat;

    Opened(int fd, Stat stat) {
      this.fd = fd;
      this.stat = stat;
    }

    @Override
    public void close() {
      Linux.close(fd);
    }
  }

  /**
   * The components of {@code given} after the syntax rules and the protected-name rule, relative to
   * the workspace; empty for the workspace itself.
   *
   * @throws PathRefusedException when the path is absolute, has {@code ..}, is malformed, or names
   *     one of cfn's own files
   */
  static List<String> components(String given) throws PathRefusedException {
    if (given.indexOf('\0') >= 0) {
      throw new PathRefusedException("malformed path", "the path contains a NUL character");
    }
    if (given.startsWith("/")
        || given.startsWith("\\")
        || WINDOWS_ABSOLUTE.matcher(given).matches()) {
      throw new PathRefusedException(
          "absolute path", "absolute paths are not allowed; give a path relative to the workspace");
    }
    Path relative;
    try {
      relative = Path.of(given);
    } catch (InvalidPathException e) {
      throw new PathRefusedException("malformed path", "the path is malformed: " + e.getReason());
    }
    if (relative.isAbsolute()) {
      throw new PathRefusedException(
          "absolute path", "absolute paths are not allowed; give a path relative to the workspace");
    }
    List<String> parts = new ArrayList<>();
    for (Path part : relative) {
      String name = part.toString();
      if (name.equals("..")) {
        throw new PathRefusedException(
            "parent path", "'..' is not allowed in paths; give a path inside the workspace");
      }
      if (name.isEmpty() || name.equals(".")) {
        continue;
      }
      if (isProtectedDirectory(name) || isStoreName(name)) {
        throw new PathRefusedException("cfn's own file", protectedMessage(name));
      }
      parts.add(name);
    }
    return parts;
  }

  static boolean isProtectedDirectory(String name) {
    return PROTECTED_DIRECTORIES.contains(name.toLowerCase(Locale.ROOT));
  }

  /** True for a store's name, or the name of a store's lock file ({@code <store>.lock}). */
  static boolean isStoreName(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.endsWith(LOCK_SUFFIX)) {
      lower = lower.substring(0, lower.length() - LOCK_SUFFIX.length());
    }
    for (String suffix : STORE_SUFFIXES) {
      if (lower.endsWith(suffix)) {
        return true;
      }
    }
    return false;
  }

  /** True for a name a listing leaves out: a protected directory or a store file name. */
  static boolean isProtectedName(String name) {
    return isProtectedDirectory(name) || isStoreName(name);
  }

  private static String protectedMessage(String name) {
    return "'"
        + name
        + "' is one of cfn's own files (configuration, agent definitions, stores or the"
        + " repository), which the file tools never read, write or list";
  }

  /** Opens {@code given} for reading: a regular file with one link that is not a store. */
  Opened openForRead(String given) throws PathRefusedException, FileProblemException {
    List<String> parts = components(given);
    if (parts.isEmpty()) {
      throw new FileProblemException("'" + given + "' is not a file");
    }
    int rootFd = openRoot();
    try {
      int fd;
      try {
        fd =
            Linux.openat2(
                rootFd,
                String.join("/", parts),
                Linux.O_RDONLY | Linux.O_NONBLOCK | Linux.O_NOCTTY | Linux.O_CLOEXEC,
                0,
                RESOLVE);
      } catch (ErrnoException e) {
        if (e.errno() == Linux.ENOENT || e.errno() == Linux.ENOTDIR) {
          throw new FileProblemException("'" + given + "' is not a file (it does not exist)");
        }
        throw refusal(e);
      }
      return checkedFile(fd, given, false);
    } finally {
      Linux.close(rootFd);
    }
  }

  /**
   * Opens {@code given} for writing, creating it and its missing directories: a regular file with
   * one link that is not a store.
   */
  Opened openForWrite(String given) throws PathRefusedException, FileProblemException {
    List<String> parts = components(given);
    if (parts.isEmpty()) {
      throw new FileProblemException("give a file path, not the workspace itself");
    }
    int rootFd = openRoot();
    try {
      createParents(rootFd, parts, given);
      int fd;
      try {
        fd =
            Linux.openat2(
                rootFd,
                String.join("/", parts),
                Linux.O_RDWR | Linux.O_CREAT | Linux.O_NONBLOCK | Linux.O_NOCTTY | Linux.O_CLOEXEC,
                0666,
                RESOLVE);
      } catch (ErrnoException e) {
        if (e.errno() == Linux.EISDIR) {
          throw new FileProblemException("'" + given + "' is a directory");
        }
        if (e.errno() == Linux.ENOTDIR) {
          throw new FileProblemException("a part of '" + given + "' is a file, not a directory");
        }
        throw refusal(e);
      }
      return checkedFile(fd, given, true);
    } finally {
      Linux.close(rootFd);
    }
  }

  /** Opens the directory {@code given} (the workspace itself when empty or {@code .}). */
  Opened openDirectory(String given) throws PathRefusedException, FileProblemException {
    List<String> parts = components(given);
    int rootFd = openRoot();
    try {
      int fd;
      try {
        fd =
            Linux.openat2(
                rootFd,
                parts.isEmpty() ? "." : String.join("/", parts),
                Linux.O_RDONLY | Linux.O_DIRECTORY | Linux.O_CLOEXEC,
                0,
                RESOLVE);
      } catch (ErrnoException e) {
        if (e.errno() == Linux.ENOENT || e.errno() == Linux.ENOTDIR) {
          throw new FileProblemException("'" + given + "' is not a directory");
        }
        throw refusal(e);
      }
      try {
        return new Opened(fd, Linux.fstat(fd));
      } catch (ErrnoException e) {
        Linux.close(fd);
        throw refusal(e);
      }
    } finally {
      Linux.close(rootFd);
    }
  }

  /** The workspace root as a descriptor; the caller closes it. */
  private int openRoot() throws PathRefusedException {
    if (!Linux.available()) {
      throw new PathRefusedException(
          "unsupported system",
          "the file tools are off here: they keep paths inside the workspace with Linux openat2,"
              + " and "
              + Linux.unavailableReason());
    }
    try {
      return Linux.openat2(
          Linux.AT_FDCWD,
          root.toString(),
          Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC,
          0,
          Linux.RESOLVE_NO_SYMLINKS | Linux.RESOLVE_NO_MAGICLINKS);
    } catch (ErrnoException e) {
      if (e.errno() == Linux.ENOSYS) {
        throw new PathRefusedException(
            "unsupported system",
            "the file tools are off here: they need Linux 5.6 or later (openat2) to keep paths"
                + " inside the workspace");
      }
      throw new PathRefusedException(
          "workspace unavailable",
          "the workspace directory "
              + root
              + " cannot be opened (errno "
              + e.errno()
              + "); it was moved, removed or replaced by a symbolic link");
    }
  }

  /** Creates the missing directories above the file, one component at a time beneath the root. */
  private static void createParents(int rootFd, List<String> parts, String given)
      throws PathRefusedException, FileProblemException {
    int dir = -1;
    try {
      for (int i = 0; i < parts.size() - 1; i++) {
        int at = dir < 0 ? rootFd : dir;
        String name = parts.get(i);
        int next;
        try {
          next = openDir(at, name);
        } catch (ErrnoException e) {
          if (e.errno() != Linux.ENOENT) {
            throw e;
          }
          try {
            Linux.mkdirat(at, name, 0777);
          } catch (ErrnoException made) {
            if (made.errno() != Linux.EEXIST) {
              throw made;
            }
          }
          next = openDir(at, name);
        }
        Linux.close(dir);
        dir = next;
      }
    } catch (ErrnoException e) {
      if (e.errno() == Linux.ENOTDIR) {
        throw new FileProblemException("a part of '" + given + "' is a file, not a directory");
      }
      throw refusal(e);
    } finally {
      Linux.close(dir);
    }
  }

  private static int openDir(int at, String name) throws ErrnoException {
    return Linux.openat2(
        at,
        name,
        Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC | Linux.O_NOFOLLOW,
        0,
        RESOLVE);
  }

  /** Checks the opened descriptor is a plain file the tools may use; closes it when not. */
  private static Opened checkedFile(int fd, String given, boolean forWrite)
      throws PathRefusedException, FileProblemException {
    boolean ok = false;
    try {
      Stat stat = Linux.fstat(fd);
      if (stat.isDirectory()) {
        throw new FileProblemException(
            forWrite ? "'" + given + "' is a directory" : "'" + given + "' is not a file");
      }
      if (!stat.isRegularFile()) {
        throw new FileProblemException("'" + given + "' is not a regular file");
      }
      if (stat.links() > 1) {
        throw new PathRefusedException(
            "hard link",
            "the file has "
                + stat.links()
                + " hard links and one of them may lie outside the workspace; the file tools"
                + " refuse hard-linked files");
      }
      if (startsWithSqliteHeader(fd, stat)) {
        throw new PathRefusedException(
            "SQLite store",
            "the file is a SQLite database (a store), which the file tools never read or write");
      }
      ok = true;
      return new Opened(fd, stat);
    } catch (ErrnoException e) {
      throw refusal(e);
    } finally {
      if (!ok) {
        Linux.close(fd);
      }
    }
  }

  private static boolean startsWithSqliteHeader(int fd, Stat stat) throws ErrnoException {
    if (stat.size() < SQLITE_MAGIC.length) {
      return false;
    }
    byte[] head = new byte[SQLITE_MAGIC.length];
    int got = 0;
    while (got < head.length) {
      int n = Linux.pread(fd, head, got, head.length - got, got);
      if (n == 0) {
        return false;
      }
      got += n;
    }
    return Arrays.equals(head, SQLITE_MAGIC);
  }

  /** The model-facing refusal for a failed open. */
  private static PathRefusedException refusal(ErrnoException e) {
    String kind =
        switch (e.errno()) {
          case Linux.ELOOP -> "symbolic link";
          case Linux.EXDEV -> "outside the workspace or another mount";
          case Linux.EACCES, Linux.EPERM -> "permission";
          default -> "cannot open";
        };
    return new PathRefusedException(
        kind,
        switch (e.errno()) {
          case Linux.ELOOP ->
              "the path goes through a symbolic link; the file tools follow no symbolic links"
                  + " (give the real path inside the workspace)";
          case Linux.EXDEV ->
              "the path leads outside the workspace or onto another mount point (give a path"
                  + " inside the workspace, on its own file system)";
          case Linux.EAGAIN -> "the workspace kept changing while the path was opened; try again";
          case Linux.EACCES, Linux.EPERM -> "permission denied";
          case Linux.ENAMETOOLONG -> "the path is too long";
          default -> "the path cannot be opened (errno " + e.errno() + ")";
        });
  }

  /** {@code parts} joined for messages; {@code .} for the workspace itself. */
  static String display(List<String> parts) {
    return parts.isEmpty() ? "." : String.join("/", parts);
  }
}
