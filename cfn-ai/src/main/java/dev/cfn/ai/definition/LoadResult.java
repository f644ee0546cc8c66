package dev.cfn.ai.definition;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What {@link DefinitionLoader} found: the definitions that loaded and every problem in every file.
 * A file with an error yields no definition; a file with only warnings yields its definition and
 * its warnings. So every file read appears either as the {@link AgentDefinition#source()} of a
 * definition or as the file of an error, which is what {@link #files()} counts.
 *
 * @param definitions the valid definitions, in file order (files sorted by path within a folder)
 * @param problems the errors and warnings, by file in the same order, then by line
 */
public record LoadResult(List<AgentDefinition> definitions, List<Problem> problems) {

  /** Makes unmodifiable copies. */
  public LoadResult {
    definitions = List.copyOf(definitions);
    problems = List.copyOf(problems);
  }

  /** Whether any file is invalid. */
  public boolean hasErrors() {
    return problems.stream().anyMatch(Problem::isError);
  }

  /** The errors only. */
  public List<Problem> errors() {
    return problems.stream().filter(Problem::isError).toList();
  }

  /** The warnings only. */
  public List<Problem> warnings() {
    return problems.stream().filter(p -> !p.isError()).toList();
  }

  /**
   * The invalid files, each once, in order: those with at least one error (a path that does not
   * exist counts as an invalid file).
   */
  public List<Path> invalidFiles() {
    Set<Path> files = new LinkedHashSet<>();
    for (Problem p : problems) {
      if (p.isError()) {
        files.add(p.file());
      }
    }
    return List.copyOf(files);
  }

  /** Every file read, valid or not, each once: the definitions' sources, then the invalid files. */
  public List<Path> files() {
    Set<Path> files = new LinkedHashSet<>();
    for (AgentDefinition d : definitions) {
      files.add(d.source());
    }
    files.addAll(invalidFiles());
    return List.copyOf(files);
  }

  /**
   * The result as a JSON object's members, in this order: {@code valid} (no errors), {@code files}
   * (how many were read), {@code agents} (the names of the definitions that loaded) and {@code
   * problems} (each as {@link Problem#fields()}). The one shape the MCP tool {@code agent_validate}
   * and the route {@code POST /v1/agents/validate} answer a check with.
   *
   * @return a new ordered, modifiable map
   */
  public java.util.Map<String, Object> report() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("valid", !hasErrors());
    m.put("files", files().size());
    m.put("agents", definitions.stream().map(AgentDefinition::name).toList());
    m.put("problems", problems.stream().map(Problem::fields).toList());
    return m;
  }

  /** The definition with this name, if it loaded. */
  public Optional<AgentDefinition> find(String name) {
    return definitions.stream().filter(d -> d.name().equals(name)).findFirst();
  }
}
