package dev.cfn.ai.definition;

import dev.cfn.ai.definition.Problem.Severity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads agent definitions from Markdown files with YAML frontmatter, the format of Claude Code's
 * {@code .claude/agents} (see {@link AgentDefinition} for the fields).
 *
 * <p>It validates every file instead of stopping at the first bad one, because a folder of agents
 * is usually fixed in one sitting: each problem comes back as a {@link Problem} with its file, line
 * and fix. A file with an error yields no definition; the other files still load. Two files with
 * the same agent name are both errors (each names the other), since neither can be said to win.
 *
 * <pre>{@code
 * LoadResult r = DefinitionLoader.load(Path.of(".claude/agents"));
 * r.problems().forEach(p -> log.warn("{}", p));      // file:line: error: message (fix: ...)
 * AgentDefinition reviewer = r.find("code-reviewer").orElseThrow();
 * }</pre>
 *
 * <p>Stateless; safe to call from any thread.
 */
public final class DefinitionLoader {
  private static final Logger LOG = LoggerFactory.getLogger(DefinitionLoader.class);

  private DefinitionLoader() {}

  /**
   * Loads every {@code *.md} file under the given folders (recursively, in path order) and every
   * file named directly (whatever its extension). A path named twice, or a file both named and
   * inside a named folder, is read once. A path that does not exist is an error; a folder without
   * {@code .md} files is a warning.
   *
   * @param filesOrFolders agent files and folders of agent files
   * @return the valid definitions and every problem found; never throws for a bad file
   */
  public static LoadResult load(Path... filesOrFolders) {
    return load(Arrays.asList(filesOrFolders));
  }

  /** {@link #load(Path...)} for a list of paths. */
  public static LoadResult load(List<Path> filesOrFolders) {
    List<Problem> pathProblems = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    Set<Path> seen = new HashSet<>();
    for (Path path : filesOrFolders) {
      Objects.requireNonNull(path, "path");
      for (Path file : expand(path, pathProblems)) {
        if (seen.add(file.toAbsolutePath().normalize())) {
          files.add(file);
        }
      }
    }

    Map<Path, DefinitionParser.Parsed> parsed = new LinkedHashMap<>();
    for (Path file : files) {
      parsed.put(file, read(file));
    }

    // Names must be unique: every file that shares a name with another is an error.
    Map<String, List<Path>> byName = new LinkedHashMap<>();
    parsed.forEach(
        (file, p) -> {
          if (p.definition() != null) {
            byName.computeIfAbsent(p.definition().name(), n -> new ArrayList<>()).add(file);
          }
        });
    Map<Path, Problem> duplicates = new LinkedHashMap<>();
    byName.forEach(
        (name, sharing) -> {
          if (sharing.size() < 2) {
            return;
          }
          for (Path file : sharing) {
            List<String> others = new ArrayList<>();
            for (Path other : sharing) {
              if (!other.equals(file)) {
                others.add(other + ":" + parsed.get(other).nameLine());
              }
            }
            duplicates.put(
                file,
                new Problem(
                    file,
                    parsed.get(file).nameLine(),
                    Severity.ERROR,
                    "agent name '" + name + "' is also used by " + String.join(", ", others),
                    "rename one of them: agent names must be unique"));
          }
        });

    List<AgentDefinition> definitions = new ArrayList<>();
    List<Problem> problems = new ArrayList<>(pathProblems);
    parsed.forEach(
        (file, p) -> {
          List<Problem> own = new ArrayList<>(p.problems());
          Problem duplicate = duplicates.get(file);
          if (duplicate != null) {
            own.add(duplicate);
            own.sort((a, b) -> Integer.compare(a.line(), b.line()));
          } else if (p.definition() != null) {
            definitions.add(p.definition());
          }
          problems.addAll(own);
        });
    LOG.debug(
        "loaded {} agent definition(s) from {} file(s), {} problem(s)",
        definitions.size(),
        files.size(),
        problems.size());
    return new LoadResult(definitions, problems);
  }

  /**
   * Parses one definition from text, as if read from a file named {@code nameForErrors}, which
   * problems name and which becomes the definition's {@link AgentDefinition#source()}. The result
   * holds at most one definition (none if the text has an error).
   */
  public static LoadResult parse(String text, Path nameForErrors) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(nameForErrors, "nameForErrors");
    DefinitionParser.Parsed p = DefinitionParser.parse(text, nameForErrors);
    return new LoadResult(
        p.definition() == null ? List.of() : List.of(p.definition()), p.problems());
  }

  /**
   * Parses one definition sent as text rather than read from a file, its problems naming it {@code
   * definition.md}: how the MCP tool {@code agent_validate} and the route {@code POST
   * /v1/agents/validate} check a definition before it is written ({@link LoadResult#report()} is
   * their answer).
   */
  public static LoadResult parse(String text) {
    return parse(text, Path.of("definition.md"));
  }

  /** The files a path stands for, reporting a missing path or an unreadable folder. */
  static List<Path> expand(Path path, List<Problem> problems) {
    if (Files.isRegularFile(path)) {
      return List.of(path);
    }
    if (!Files.exists(path)) {
      problems.add(
          new Problem(
              path,
              0,
              Severity.ERROR,
              "no such file or folder",
              "check the path; Claude Code keeps agents in .claude/agents and ~/.claude/agents"));
      return List.of();
    }
    if (!Files.isDirectory(path)) {
      problems.add(
          new Problem(
              path,
              0,
              Severity.ERROR,
              "not a regular file or folder",
              "name agent .md files or the folders that hold them"));
      return List.of();
    }
    List<Path> found = new ArrayList<>();
    try {
      Files.walkFileTree(
          path,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              if (String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT).endsWith(".md")
                  && Files.isRegularFile(file)) {
                found.add(file);
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              problems.add(
                  new Problem(
                      file,
                      0,
                      Severity.ERROR,
                      "cannot read: " + e.getClass().getSimpleName(),
                      "check the permissions of " + file));
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      problems.add(
          new Problem(
              path,
              0,
              Severity.ERROR,
              "cannot list the folder: " + e.getClass().getSimpleName(),
              "check that the folder is readable"));
    }
    if (found.isEmpty()) {
      problems.add(
          new Problem(
              path,
              0,
              Severity.WARNING,
              "the folder holds no .md files, so no agents",
              "put agent files (name.md with frontmatter) in it, or name another folder"));
    }
    found.sort(null);
    return found;
  }

  /**
   * The most bytes an agent file may have (1 MiB): Claude Code agent files are a few KiB, the
   * largest public ones under 100 KiB. Checked from the file's size before it is opened, and again
   * while reading (a file that grows meanwhile), so a huge file is never read whole.
   */
  public static final int MAX_FILE_BYTES = 1024 * 1024;

  /**
   * The most characters an agent file's frontmatter may have (256 KiB), checked before it is parsed
   * as YAML.
   */
  public static final int MAX_FRONTMATTER_CHARS = DefinitionParser.MAX_FRONTMATTER_CHARS;

  private static DefinitionParser.Parsed read(Path file) {
    Text text = readText(file);
    if (text.problem() != null) {
      return failed(text.problem());
    }
    try {
      return DefinitionParser.parse(text.text(), file);
    } catch (RuntimeException e) {
      // A parser bug must cost one file, not the folder: the other agents still load.
      LOG.warn("reading agent file {} failed", Problem.printable(file.toString()), e);
      return failed(
          new Problem(
              file,
              0,
              Severity.ERROR,
              "cfn could not read this file: " + e.getClass().getSimpleName(),
              "check the file with cfn agent validate --debug and report the problem"));
    }
  }

  /** A file's text, or the problem that kept it from being read. */
  record Text(String text, Problem problem) {}

  /**
   * Reads an agent file as UTF-8 text, refusing before reading a file larger than {@link
   * #MAX_FILE_BYTES}, a path with control characters, and bytes that are not UTF-8.
   */
  static Text readText(Path file) {
    if (DefinitionParser.unprintable(file.toString(), false) >= 0) {
      return new Text(
          null,
          new Problem(
              file,
              0,
              Severity.ERROR,
              "the file's path contains a control character (shown escaped), so it is not read",
              "rename the file or folder without line breaks or control characters"));
    }
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        return new Text(null, tooLarge(file, size));
      }
      try (InputStream in = Files.newInputStream(file)) {
        bytes = in.readNBytes(MAX_FILE_BYTES + 1);
      }
      if (bytes.length > MAX_FILE_BYTES) {
        return new Text(null, tooLarge(file, -1));
      }
    } catch (IOException e) {
      return new Text(
          null,
          new Problem(
              file,
              0,
              Severity.ERROR,
              "cannot read the file: " + e.getClass().getSimpleName(),
              "check that the file exists and is readable"));
    }
    try {
      return new Text(dev.cfn.core.io.TextFile.decode(bytes, StandardCharsets.UTF_8), null);
    } catch (dev.cfn.core.io.TextFile.NotTextException e) {
      return new Text(
          null,
          new Problem(
              file,
              e.line(),
              Severity.ERROR,
              e.getMessage(),
              "save the file as UTF-8, e.g. iconv -f latin1 -t utf-8 "
                  + file.getFileName()
                  + " > fixed.md"));
    }
  }

  private static Problem tooLarge(Path file, long size) {
    return new Problem(
        file,
        0,
        Severity.ERROR,
        (size >= 0 ? "the file is " + size + " bytes, more" : "the file holds more")
            + " than the "
            + MAX_FILE_BYTES
            + " bytes (1 MiB) an agent file may have, so it is not read",
        "check that this is an agent file; keep long reference material out of the agent's"
            + " prompt");
  }

  private static DefinitionParser.Parsed failed(Problem problem) {
    return new DefinitionParser.Parsed(null, 1, List.of(problem));
  }
}
