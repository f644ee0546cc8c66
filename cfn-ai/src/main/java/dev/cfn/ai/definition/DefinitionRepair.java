package dev.cfn.ai.definition;

import dev.cfn.ai.definition.Problem.Severity;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites the YAML mistakes that keep real-world agent files from loading, in place: the engine of
 * {@code cfn agent fix}. Public collections of Claude Code agents fail mostly on three things,
 * which Claude Code rejects too, and each has one safe rewrite:
 *
 * <ul>
 *   <li>an unquoted value holding {@code ": "} or ending in {@code :} ({@code description: Use
 *       when: the user asks}), which YAML reads as a second field: the value, with the indented
 *       lines that continue it, becomes one double-quoted string, folded as YAML would fold it;
 *   <li>an unquoted value starting with {@code @}, {@code `} or {@code %}, which YAML reserves:
 *       quoted the same way;
 *   <li>tabs in the indentation of a frontmatter line, which YAML forbids: each becomes two spaces;
 *   <li>blank lines above the opening {@code ---}: removed.
 * </ul>
 *
 * <p>A quoted value keeps all the text the author wrote, a {@code " #"} included (YAML would have
 * read it as the start of a comment, but the file did not load as YAML anyway). Nothing else is
 * touched: the body, block scalars ({@code |}, {@code >}), quoted and flow values, comments, a byte
 * order mark and CRLF line ends (which cfn reads as they are) stay byte for byte. A file that
 * already loads is never written. A file that is rewritten keeps its original as {@code NAME.bak}
 * beside it (or {@code NAME.bak.1}, {@code .bak.2}, …: an existing backup is never overwritten),
 * and is replaced atomically: the new text goes to a temporary file in the same folder, is forced
 * to disk and renamed over the original, keeping its permissions. A symbolic link is followed and
 * its target rewritten.
 *
 * <pre>{@code
 * for (DefinitionRepair.Outcome o : DefinitionRepair.repair(List.of(dir), false)) {
 *   System.out.println(o.file() + ": " + o.status() + " " + o.changes());
 * }
 * }</pre>
 *
 * <p>Stateless; safe to call from any thread, though two calls on one file race like two editors.
 */
public final class DefinitionRepair {

  /**
   * One rewrite.
   *
   * @param line the 1-based line of the original file where it starts
   * @param what what was done and why, one line
   * @param before the original lines it replaced (empty when lines were only removed: see {@code
   *     after})
   * @param after the lines written instead (empty when lines were removed)
   */
  public record Change(int line, String what, List<String> before, List<String> after) {
    /** Makes unmodifiable copies. */
    public Change {
      Objects.requireNonNull(what, "what");
      before = List.copyOf(before);
      after = List.copyOf(after);
    }
  }

  /** What became of one file. */
  public enum Status {
    /** The file loaded before: it was left alone. */
    ALREADY_LOADS,
    /** The file was rewritten (or, in a dry run, would be) and now loads. */
    FIXED,
    /**
     * The file does not load, and will not after any rewrite made: {@link Outcome#remaining()} says
     * why. Rewrites that help are still made (see {@link Outcome#changes()}).
     */
    STILL_INVALID
  }

  /**
   * What became of one file.
   *
   * @param file the file as found (a path given, or a {@code .md} file inside a folder given)
   * @param status whether it loads now
   * @param changes the rewrites made, or that a dry run would make, in file order
   * @param written whether the file was rewritten (false in a dry run and when nothing changed)
   * @param backup where the original was saved, or null when the file was not written
   * @param remaining the errors left after the rewrites (empty when the file loads)
   */
  public record Outcome(
      Path file,
      Status status,
      List<Change> changes,
      boolean written,
      Path backup,
      List<Problem> remaining) {
    /** Makes unmodifiable copies. */
    public Outcome {
      Objects.requireNonNull(file, "file");
      Objects.requireNonNull(status, "status");
      changes = List.copyOf(changes);
      remaining = List.copyOf(remaining);
    }

    /** Whether the file loads after the repair (or would, after a dry run). */
    public boolean loads() {
      return status != Status.STILL_INVALID;
    }
  }

  /** A key and its value on one frontmatter line: indentation, key, separator, value. */
  private static final Pattern FIELD =
      Pattern.compile("^( *)([A-Za-z0-9_][A-Za-z0-9_.-]*)(:[ \\t]+)(\\S.*)$");

  private DefinitionRepair() {}

  /**
   * Repairs every agent file named, and every {@code *.md} file under every folder named.
   *
   * @param filesOrFolders agent files and folders of agent files
   * @param dryRun when true, nothing is written: the outcomes say what would change
   * @return one outcome per file (and per path that does not exist), in the order {@link
   *     DefinitionLoader#load(List)} reads them
   */
  public static List<Outcome> repair(List<Path> filesOrFolders, boolean dryRun) {
    List<Outcome> outcomes = new ArrayList<>();
    Set<Path> seen = new HashSet<>();
    for (Path path : filesOrFolders) {
      Objects.requireNonNull(path, "path");
      List<Problem> pathProblems = new ArrayList<>();
      for (Path file : DefinitionLoader.expand(path, pathProblems)) {
        if (seen.add(file.toAbsolutePath().normalize())) {
          outcomes.add(repairFile(file, dryRun));
        }
      }
      for (Problem p : pathProblems) {
        if (p.isError()) {
          outcomes.add(
              new Outcome(p.file(), Status.STILL_INVALID, List.of(), false, null, List.of(p)));
        }
      }
    }
    return outcomes;
  }

  /** {@link #repair(List, boolean)} for paths given one by one. */
  public static List<Outcome> repair(boolean dryRun, Path... filesOrFolders) {
    return repair(Arrays.asList(filesOrFolders), dryRun);
  }

  private static Outcome repairFile(Path file, boolean dryRun) {
    DefinitionLoader.Text read = DefinitionLoader.readText(file);
    if (read.problem() != null) {
      return new Outcome(
          file, Status.STILL_INVALID, List.of(), false, null, List.of(read.problem()));
    }
    String original = read.text();
    if (errors(original, file).isEmpty()) {
      return new Outcome(file, Status.ALREADY_LOADS, List.of(), false, null, List.of());
    }
    List<Change> changes = new ArrayList<>();
    String fixed = rewrite(original, changes);
    List<Problem> remaining = errors(fixed, file);
    Status status = remaining.isEmpty() ? Status.FIXED : Status.STILL_INVALID;
    if (changes.isEmpty() || dryRun) {
      return new Outcome(file, status, changes, false, null, remaining);
    }
    Path backup;
    try {
      backup = write(file, fixed);
    } catch (IOException e) {
      Problem p =
          new Problem(
              file,
              0,
              Severity.ERROR,
              "cannot rewrite the file: "
                  + e.getClass().getSimpleName()
                  + (e.getMessage() == null ? "" : " " + e.getMessage()),
              "check that the file and its folder are writable; the file was not changed");
      return new Outcome(file, Status.STILL_INVALID, changes, false, null, List.of(p));
    }
    return new Outcome(file, status, changes, true, backup, remaining);
  }

  private static List<Problem> errors(String text, Path file) {
    return DefinitionParser.parse(text, file).problems().stream().filter(Problem::isError).toList();
  }

  // ---------------------------------------------------------------- the rewrite

  /**
   * The text with the known mistakes rewritten, each rewrite added to {@code changes}; the text
   * itself when there is nothing to rewrite or no frontmatter to find.
   */
  static String rewrite(String text, List<Change> changes) {
    String bom = text.startsWith("\uFEFF") ? "\uFEFF" : "";
    String newline = text.contains("\r\n") ? "\r\n" : "\n";
    String[] lines = text.substring(bom.length()).split("\r\n|\n|\r", -1);

    int open = 0;
    while (open < lines.length && lines[open].isBlank()) {
      open++;
    }
    if (open == lines.length || !lines[open].stripTrailing().equals("---")) {
      return text;
    }
    int close = -1;
    for (int i = open + 1; i < lines.length; i++) {
      if (lines[i].stripTrailing().equals("---")) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      return text;
    }

    List<String> out = new ArrayList<>();
    if (open > 0) {
      changes.add(
          new Change(
              1,
              "removed "
                  + (open == 1 ? "the blank line" : "the " + open + " blank lines")
                  + " above the opening ---: the frontmatter must start on the first line",
              Arrays.asList(lines).subList(0, open),
              List.of()));
    }
    out.add(lines[open]);

    // Tabs first, so that the quoting below sees the indentation YAML will see.
    String[] fm = Arrays.copyOfRange(lines, open + 1, close);
    boolean[] blockContent = blockContent(fm);
    for (int i = 0; i < fm.length; i++) {
      if (blockContent[i]) {
        continue; // a tab after a block scalar's indentation is text, and YAML allows it
      }
      String untabbed = untab(fm[i]);
      if (!untabbed.equals(fm[i])) {
        changes.add(
            new Change(
                open + 2 + i,
                "indented with spaces instead of tabs, which YAML does not allow",
                List.of(fm[i]),
                List.of(untabbed)));
        fm[i] = untabbed;
      }
    }

    int i = 0;
    while (i < fm.length) {
      Matcher m = FIELD.matcher(fm[i]);
      if (!m.matches()) {
        out.add(fm[i++]);
        continue;
      }
      int indent = m.group(1).length();
      String value = m.group(4);
      int end = continuationEnd(fm, i, indent);
      char first = value.charAt(0);
      boolean reserved = "@`%".indexOf(first) >= 0; // YAML cannot start a plain value with these
      if (!reserved && "\"'[{|>&*!#".indexOf(first) >= 0) {
        // quoted, flow, block, anchored or tagged: YAML's own, left as written
        for (int j = i; j < end; j++) {
          out.add(fm[j]);
        }
        i = end;
        continue;
      }
      String folded = fold(value, Arrays.asList(fm).subList(i + 1, end));
      if (!reserved && !needsQuotes(folded)) {
        for (int j = i; j < end; j++) {
          out.add(fm[j]);
        }
        i = end;
        continue;
      }
      String quoted = m.group(1) + m.group(2) + ": " + doubleQuoted(folded);
      changes.add(
          new Change(
              open + 2 + i,
              "quoted the value of "
                  + m.group(2)
                  + (end - i > 1 ? " (with its " + (end - i - 1) + " continuation lines)" : "")
                  + (reserved
                      ? ", which starts with " + first + ", a character YAML reserves"
                      : ", whose ': ' YAML would read as the start of another field"),
              Arrays.asList(fm).subList(i, end),
              List.of(quoted)));
      out.add(quoted);
      i = end;
    }
    for (int j = close; j < lines.length; j++) {
      out.add(lines[j]);
    }
    if (changes.isEmpty()) {
      return text;
    }
    return bom + String.join(newline, out);
  }

  /**
   * Which lines are the content of a block scalar ({@code field: |} or {@code >}): those after it
   * indented with spaces deeper than its key, and blank lines between them.
   */
  private static boolean[] blockContent(String[] fm) {
    boolean[] content = new boolean[fm.length];
    for (int i = 0; i < fm.length; i++) {
      Matcher m = FIELD.matcher(fm[i]);
      if (m.matches() && "|>".indexOf(m.group(4).charAt(0)) >= 0) {
        int end = continuationEnd(fm, i, m.group(1).length());
        for (int j = i + 1; j < end; j++) {
          content[j] = true;
        }
        i = end - 1;
      }
    }
    return content;
  }

  /** The line with each tab in its leading whitespace replaced by two spaces. */
  private static String untab(String line) {
    int n = 0;
    while (n < line.length() && (line.charAt(n) == ' ' || line.charAt(n) == '\t')) {
      n++;
    }
    String lead = line.substring(0, n);
    return lead.indexOf('\t') < 0 ? line : lead.replace("\t", "  ") + line.substring(n);
  }

  /**
   * The index after the last line that continues the value on line {@code start}: the following
   * lines indented deeper than its key, and blank lines between them (not trailing blank lines).
   */
  private static int continuationEnd(String[] fm, int start, int indent) {
    int end = start + 1;
    for (int j = start + 1; j < fm.length; j++) {
      if (fm[j].isBlank()) {
        continue;
      }
      if (indentOf(fm[j]) <= indent) {
        break;
      }
      end = j + 1;
    }
    return end;
  }

  private static int indentOf(String line) {
    int n = 0;
    while (n < line.length() && line.charAt(n) == ' ') {
      n++;
    }
    return n;
  }

  /**
   * A plain multi-line value as YAML folds it: lines joined by a space, each blank line a line
   * break.
   */
  private static String fold(String first, List<String> continuation) {
    StringBuilder s = new StringBuilder(first.strip());
    int blanks = 0;
    for (String line : continuation) {
      if (line.isBlank()) {
        blanks++;
        continue;
      }
      s.append(blanks == 0 ? " " : "\n".repeat(blanks)).append(line.strip());
      blanks = 0;
    }
    return s.toString();
  }

  /** Whether a plain value holds what YAML reads as a mapping: {@code ": "} or a final colon. */
  private static boolean needsQuotes(String value) {
    return value.contains(": ") || value.contains(":\t") || value.endsWith(":");
  }

  private static String doubleQuoted(String value) {
    StringBuilder s = new StringBuilder("\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> s.append("\\\\");
        case '"' -> s.append("\\\"");
        case '\n' -> s.append("\\n");
        case '\t' -> s.append("\\t");
        default -> s.append(c);
      }
    }
    return s.append('"').toString();
  }

  // ---------------------------------------------------------------- the write

  /**
   * Saves the original beside the file under the first free backup name, then replaces the file
   * atomically with {@code text}; returns the backup.
   */
  private static Path write(Path file, String text) throws IOException {
    Path target = Files.isSymbolicLink(file) ? file.toRealPath() : file;
    Path dir = target.toAbsolutePath().getParent();
    Path fileName = target.getFileName();
    if (dir == null || fileName == null) {
      throw new IOException(file + " is not a file");
    }
    String name = fileName.toString();
    Path backup = null;
    for (int n = 0; backup == null; n++) {
      Path candidate = dir.resolve(name + ".bak" + (n == 0 ? "" : "." + n));
      try {
        Files.copy(target, candidate, StandardCopyOption.COPY_ATTRIBUTES);
        backup = candidate;
      } catch (FileAlreadyExistsException e) {
        if (n == 999) {
          throw new IOException("1000 backups of " + name + " exist already; remove some", e);
        }
      }
    }
    Path temp = Files.createTempFile(dir, "." + name + ".", ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      PosixFileAttributeView from =
          Files.getFileAttributeView(target, PosixFileAttributeView.class);
      if (from != null) {
        Files.setPosixFilePermissions(temp, from.readAttributes().permissions());
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
    return backup;
  }
}
