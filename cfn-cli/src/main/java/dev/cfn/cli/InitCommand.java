package dev.cfn.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cfn init}: scaffolds a project for cfn: {@code .cfn/providers.yaml} (commented, with one
 * local provider that needs no key), {@code .cfn/.gitignore} (cfn's state files stay out of version
 * control) and two agent definitions in {@code .claude/agents/} (an implementer and a reviewer, the
 * CFN Loop's two roles).
 *
 * <p>It never overwrites: when any of the files exists it names them and writes nothing. Each file
 * is written to a temporary name beside its target and moved into place without replacing, and what
 * it wrote is removed again if a later file fails, so an interrupted init leaves no half.
 */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description = {
      "Scaffolds .cfn/ (providers.yaml, .gitignore) and two agent definitions in .claude/agents/.",
      "Never overwrites: when a file exists, nothing is written."
    })
final class InitCommand implements Callable<Integer> {
  /** A file {@code init} writes: where (relative to the project), from which template, mode. */
  record Template(Path path, String resource, boolean secretish) {}

  static final List<Template> TEMPLATES =
      List.of(
          new Template(Path.of(".cfn", "providers.yaml"), "providers.yaml", true),
          new Template(Path.of(".cfn", ".gitignore"), "gitignore", false),
          new Template(Path.of(".claude", "agents", "implementer.md"), "implementer.md", false),
          new Template(Path.of(".claude", "agents", "reviewer.md"), "reviewer.md", false));

  @Spec CommandSpec spec;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description = "The project folder (default: the current folder); created if missing.")
  Path dir = Path.of(".");

  @Option(names = "--json", description = "Print the files written as JSON.")
  boolean json;

  @Override
  public Integer call() {
    PathChecks.folder("--dir", dir);
    Path root = dir.toAbsolutePath().normalize();

    List<Path> existing = new ArrayList<>();
    for (Template t : TEMPLATES) {
      Path target = root.resolve(t.path());
      if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        existing.add(target);
      }
    }
    if (!existing.isEmpty()) {
      throw CommandFailure.usage(
          "not initialising " + root + ": " + describe(existing) + " already there",
          "nothing was written; move " + (existing.size() == 1 ? "it" : "them") + " away first");
    }

    List<Path> written = new ArrayList<>();
    try {
      for (Template t : TEMPLATES) {
        Path target = root.resolve(t.path());
        write(target, template(t.resource()), t.secretish());
        written.add(target);
      }
    } catch (IOException | RuntimeException e) {
      for (Path p : written.reversed()) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort: the message below says what happened
        }
      }
      if (e instanceof FileAlreadyExistsException f) {
        throw CommandFailure.usage(
            "not initialising " + root + ": " + f.getFile() + " appeared while writing",
            "nothing was written; run cfn init again");
      }
      throw CommandFailure.usage(
          "cannot initialise " + root + ": " + e.getMessage() + "; nothing was written",
          "check that you may write in " + root);
    }

    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("project", root.toString());
      result.put("written", written.stream().map(Path::toString).toList());
      try {
        out.println(new ObjectMapper().writeValueAsString(result));
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
      return 0;
    }
    out.println("initialised " + root + ":");
    for (Template t : TEMPLATES) {
      out.println("  " + t.path());
    }
    out.println();
    out.println("next:");
    if (!root.equals(Path.of("").toAbsolutePath().normalize())) {
      out.println("  cd " + dir);
    }
    out.println("  cfn agent list                      the two agents, checked");
    out.println("  cfn run implementer \"TASK\"          needs a model: see .cfn/providers.yaml");
    out.println("  (start a local model with Ollama, or uncomment a hosted provider and export");
    out.println("   its *_API_KEY)");
    return 0;
  }

  private static String describe(List<Path> paths) {
    if (paths.size() == 1) {
      return paths.getFirst() + " is";
    }
    return paths.size()
        + " files ("
        + String.join(", ", paths.stream().map(Path::toString).toList())
        + ") are";
  }

  static String template(String resource) {
    try (InputStream in = InitCommand.class.getResourceAsStream("init/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("the cfn jar lacks its template init/" + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code text} to {@code target} through a temporary file, never replacing one. */
  private static void write(Path target, String text, boolean privateFile) throws IOException {
    Path folder = java.util.Objects.requireNonNull(target.toAbsolutePath().getParent(), "folder");
    Files.createDirectories(folder);
    Path tmp = Files.createTempFile(folder, "." + target.getFileName(), ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      if (privateFile && Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      }
      // a hard link fails when the target exists (rename would replace it): a file that appeared
      // meanwhile is kept and reported; where links are not supported, a move that checks first
      try {
        Files.createLink(target, tmp);
      } catch (FileAlreadyExistsException e) {
        throw e;
      } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
        Files.move(tmp, target);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
