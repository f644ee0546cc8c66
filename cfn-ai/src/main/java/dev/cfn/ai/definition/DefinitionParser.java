package dev.cfn.ai.definition;

import dev.cfn.ai.definition.AgentDefinition.Lifecycle;
import dev.cfn.ai.definition.AgentDefinition.Priority;
import dev.cfn.ai.definition.Problem.Severity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.ConstructNode;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.parser.Parser;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Reads one agent file's text into a definition and the problems found on the way. It splits the
 * frontmatter from the body by lines, composes the frontmatter with snakeyaml-engine into nodes
 * (which keep their line numbers) and reads each field from its node, so that every problem names
 * the line it is on. It goes on after a problem, so one run reports all of a file's problems.
 *
 * <p>One parser reads one text; it is not thread-safe and not reused.
 */
final class DefinitionParser {

  /**
   * What one file gave.
   *
   * @param definition the definition, or null when the file has an error
   * @param nameLine the line of the {@code name} field (for duplicate-name errors), or 1
   * @param problems the file's problems, by line
   */
  record Parsed(AgentDefinition definition, int nameLine, List<Problem> problems) {}

  private static final Pattern MODEL_TOKEN =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@+\\[\\]-]*");
  private static final Pattern MODEL_ID_MARK = Pattern.compile(".*[0-9._:/@-].*");
  private static final Pattern MODEL_WORD = Pattern.compile("[a-z]+");
  private static final int MAX_DEPTH = 64;

  /** The most problems reported for one file; the rest are counted in one more problem. */
  static final int MAX_PROBLEMS = 100;

  private static final List<String> KNOWN_FIELDS =
      List.of(
          "name",
          "description",
          "tools",
          "model",
          "provider",
          "type",
          "capabilities",
          "priority",
          "hooks",
          "lifecycle",
          "color",
          "maxTurns");

  /**
   * Fields Claude Code reads that cfn keeps in {@code extra} without acting on them, each with what
   * that means for the user.
   */
  private static final Map<String, String> CLAUDE_CODE_FIELDS =
      Map.of(
          "disallowedTools",
          "cfn does not apply it, so the agent is not kept from those tools: leave them out of"
              + " tools instead",
          "permissionMode",
          "cfn's tool permissions decide instead; remove it if only cfn reads this file",
          "skills",
          "remove it if only cfn reads this file",
          "mcpServers",
          "remove it if only cfn reads this file",
          "memory",
          "remove it if only cfn reads this file",
          "background",
          "remove it if only cfn reads this file",
          "isolation",
          "remove it if only cfn reads this file");

  /**
   * The most characters a frontmatter may have (256 KiB). Claude Code frontmatter is a few lines;
   * the largest real ones, with long example-laden descriptions, stay under 20 KiB.
   */
  static final int MAX_FRONTMATTER_CHARS = 256 * 1024;

  /**
   * How the frontmatter is read. Aliases ({@code *name}) are refused while parsing (see {@link
   * LimitedParser}), so no node is shared and nothing can expand; nesting is capped at {@link
   * #MAX_DEPTH} while parsing, so the composer's recursion stays shallow. Duplicate keys are
   * allowed here because the parser reports them itself, with both lines.
   */
  private static final LoadSettings SETTINGS =
      LoadSettings.builder()
          .setSchema(new CoreSchema())
          .setAllowDuplicateKeys(true) // reported by the parser, with both lines
          .setAllowRecursiveKeys(false)
          .setMaxAliasesForCollections(0)
          .setCodePointLimit(MAX_FRONTMATTER_CHARS + 1)
          .build();

  private static final Map<Tag, ConstructNode> SCALARS =
      SETTINGS.getSchema().getSchemaTagConstructors();

  private final Path file;
  private final List<Problem> problems = new ArrayList<>();
  private String[] lines = new String[0];
  private int yamlFirstLine; // the file line of the frontmatter's first line
  private int openLine = 1; // the line of the opening ---
  private int keyLine = 1; // the line of the field being read

  // what the fields said
  private boolean fieldsRead; // false when the frontmatter is not YAML fields at all
  private boolean nameGiven;
  private boolean descriptionGiven;
  private String name;
  private int nameLine = 1;
  private String description;
  private List<String> tools;
  private String model;
  private int modelLine;
  private String provider;
  private String type;
  private List<String> capabilities;
  private Priority priority;
  private final Map<String, Object> hooks = new LinkedHashMap<>();
  private Lifecycle lifecycle = Lifecycle.NONE;
  private Integer maxTurns; // lifecycle.max_turns, or Claude Code's top-level maxTurns
  private String maxTurnsField; // which of them gave it, null when none did
  private int maxTurnsLine;
  private String color;
  private final Map<String, Object> extra = new LinkedHashMap<>();

  private DefinitionParser(Path file) {
    this.file = file;
  }

  /** Parses one file's text; {@code file} names it in problems and becomes the source. */
  static Parsed parse(String text, Path file) {
    DefinitionParser p = new DefinitionParser(file);
    AgentDefinition d = p.read(text);
    p.problems.sort((a, b) -> Integer.compare(a.line(), b.line()));
    List<Problem> problems = p.problems;
    if (problems.size() > MAX_PROBLEMS) {
      // A hostile or generated file may hold thousands (27,000 unknown fields fit in 256 KiB).
      List<Problem> rest = problems.subList(MAX_PROBLEMS, problems.size());
      boolean errors = rest.stream().anyMatch(Problem::isError);
      Problem more =
          new Problem(
              file,
              rest.get(0).line(),
              errors ? Severity.ERROR : Severity.WARNING,
              rest.size()
                  + " more problems from this line on are not listed (at most "
                  + MAX_PROBLEMS
                  + " per file)",
              "fix the problems listed, then validate the file again");
      problems = new ArrayList<>(problems.subList(0, MAX_PROBLEMS));
      problems.add(more);
    }
    return new Parsed(d, p.nameLine, List.copyOf(problems));
  }

  private AgentDefinition read(String text) {
    if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
      text = text.substring(1);
    }
    lines = text.split("\r\n|\n|\r", -1);
    int first = 0;
    while (first < lines.length && lines[first].isBlank()) {
      first++;
    }
    if (first == lines.length) {
      error(
          1,
          "the file is empty",
          "write the frontmatter between two --- lines (name: "
              + suggestedName()
              + ", description: when to use the agent), then the system prompt");
      return null;
    }
    if (!isFence(lines[first])) {
      error(
          first + 1,
          "no frontmatter: an agent file starts with a --- line, then its fields, then a closing"
              + " --- line",
          "add at the top a --- line, name: "
              + suggestedName()
              + ", description: ..., and a closing --- line before the prompt");
      return null;
    }
    if (first > 0) {
      error(
          1,
          "the frontmatter must start on the first line, but the --- is on line " + (first + 1),
          "delete the blank lines above the opening ---; cfn agent fix " + file + " does it");
    }
    openLine = first + 1;
    int close = -1;
    for (int i = first + 1; i < lines.length; i++) {
      if (isFence(lines[i])) {
        close = i;
        break;
      }
    }
    if (close < 0) {
      error(
          openLine,
          "the frontmatter opened by --- on line " + openLine + " is never closed",
          "add a line --- after the last field and before the system prompt");
      return null;
    }
    yamlFirstLine = first + 2;
    readFrontmatter(String.join("\n", List.of(lines).subList(first + 1, close)));

    String prompt = body(close + 1);
    if (prompt.isEmpty()) {
      warning(
          close + 1,
          "the body after the frontmatter is empty, so the agent has no system prompt",
          "write the agent's instructions below the closing --- line");
    }
    if (fieldsRead && !nameGiven) {
      error(
          openLine,
          "the frontmatter has no name",
          "add a line name: "
              + suggestedName()
              + " (lowercase letters and digits joined by hyphens or dots)");
    }
    if (fieldsRead && !descriptionGiven) {
      error(
          openLine,
          "the frontmatter has no description",
          "add a line description: saying when to use the agent; Claude Code routes tasks by it");
    }
    if (model != null) {
      checkModel();
    }
    // only for a file that loads: one with errors gets no definition, so no tools either
    if (fieldsRead && tools == null && problems.stream().noneMatch(Problem::isError)) {
      warning(
          openLine,
          "there is no tools line, so the agent may use no tools: cfn denies by default (Claude"
              + " Code would give it every tool)",
          "list the tools it may use (tools: file_read, memory_search), or write tools: \"*\" to"
              + " allow every tool");
    }
    if (problems.stream().anyMatch(Problem::isError)) {
      return null;
    }
    return new AgentDefinition(
        name,
        description,
        tools,
        model,
        provider,
        type,
        capabilities,
        priority,
        hooks,
        new Lifecycle(lifecycle.maxRetries(), lifecycle.timeout(), maxTurns),
        color,
        prompt,
        extra,
        file);
  }

  private static boolean isFence(String line) {
    return line.stripTrailing().equals("---");
  }

  private String body(int from) {
    int start = from;
    while (start < lines.length && lines[start].isBlank()) {
      start++;
    }
    if (start >= lines.length) {
      return "";
    }
    return String.join("\n", List.of(lines).subList(start, lines.length)).stripTrailing();
  }

  // ---------------------------------------------------------------- frontmatter

  private void readFrontmatter(String yaml) {
    if (yaml.length() > MAX_FRONTMATTER_CHARS) {
      error(
          openLine,
          "the frontmatter is "
              + yaml.length()
              + " characters long, more than the "
              + MAX_FRONTMATTER_CHARS
              + " an agent file may have",
          "move long text from the frontmatter into the system prompt below the closing ---");
      return;
    }
    Optional<Node> root;
    try {
      LimitedParser parser =
          new LimitedParser(new ParserImpl(SETTINGS, new StreamReader(SETTINGS, yaml)));
      root = new Composer(SETTINGS, parser).getSingleNode();
    } catch (LimitExceeded e) {
      error(e.mark.map(this::fileLine).orElse(openLine), e.getMessage(), e.fix);
      return;
    } catch (MarkedYamlEngineException e) {
      int line = e.getProblemMark().or(e::getContextMark).map(this::fileLine).orElse(openLine);
      String what = e.getProblem() == null ? "" : e.getProblem();
      if (e.getContext() != null && !e.getContext().isBlank()) {
        what = e.getContext() + ": " + what;
      }
      error(line, "YAML syntax error in the frontmatter: " + what.strip(), yamlFix(what));
      return;
    } catch (YamlEngineException e) {
      error(
          openLine,
          "the frontmatter is not valid YAML: " + e.getMessage(),
          "check the fields between the --- lines");
      return;
    }
    if (root.isEmpty()) {
      fieldsRead = true; // no fields: the missing name and description are reported by the caller
      return;
    }
    if (!(root.get() instanceof MappingNode map)) {
      error(
          line(root.get()),
          "the frontmatter must be fields written as 'field: value' lines, but it is "
              + kind(root.get()),
          "write one field per line, such as name: " + suggestedName());
      return;
    }
    fieldsRead = true;
    Map<String, Integer> seen = new HashMap<>();
    for (NodeTuple t : map.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode keyNode)) {
        error(
            line(t.getKeyNode()),
            "a field name must be plain text, but this one is " + kind(t.getKeyNode()),
            "write the field as name: value");
        continue;
      }
      String key = keyNode.getValue();
      int keyLine = line(keyNode);
      Integer before = seen.putIfAbsent(key, keyLine);
      if (before != null) {
        error(
            keyLine,
            "field '" + key + "' is given twice (first on line " + before + ")",
            "keep one of the two '" + key + ":' lines");
        continue;
      }
      readField(key, keyLine, t.getValueNode());
    }
  }

  private void readField(String key, int keyLine, Node value) {
    this.keyLine = keyLine;
    switch (key) {
      case "name" -> {
        nameGiven = true;
        nameLine = keyLine;
        String v = text(key, value, true);
        if (v != null && !AgentDefinition.isValidName(v)) {
          error(
              line(value),
              "name '" + v + "' is not a valid agent name",
              "use lowercase letters and digits joined by single hyphens or dots: name: "
                  + slug(v));
        } else {
          name = v;
        }
      }
      case "description" -> {
        descriptionGiven = true;
        String v = text(key, value, true);
        description = v == null ? null : v.strip();
      }
      case "tools" -> tools = readTools(value);
      case "model" -> {
        model = text(key, value, false);
        modelLine = line(value);
      }
      case "provider" -> provider = text(key, value, false);
      case "type" -> type = text(key, value, false);
      case "color" -> color = text(key, value, false);
      case "capabilities" -> capabilities = readTextList(key, value);
      case "priority" -> readPriority(value);
      case "hooks" -> readHooks(value);
      case "lifecycle" -> readLifecycle(value);
      case "maxTurns", "max_turns" -> readMaxTurns(key, keyLine, value);
      default -> unknownField(key, keyLine, value);
    }
  }

  private void unknownField(String key, int keyLine, Node value) {
    Object v = plainValue(key, value, 0);
    extra.put(key, v);
    if (key.equals("version")) {
      return; // the definition's version label, read by canary rollouts (dev.cfn.ai.rollout)
    }
    String claudeCode = CLAUDE_CODE_FIELDS.get(key);
    if (claudeCode != null) {
      warning(
          keyLine,
          "field '" + key + "' is a Claude Code setting that cfn keeps but does not use",
          claudeCode);
      return;
    }
    String near = closest(key, KNOWN_FIELDS);
    String fix;
    if (near == null) {
      fix = "remove it, unless another tool reads it";
    } else if (near.equalsIgnoreCase(key)) {
      fix = "field names are lowercase: write " + near + ":";
    } else {
      fix = "did you mean " + near + "?";
    }
    warning(keyLine, "unknown field '" + key + "' is kept in extra but cfn does not use it", fix);
  }

  // ---------------------------------------------------------------- field readers

  /**
   * Reads a text field. Returns null (after reporting) when the value is missing, empty or not
   * text.
   */
  private String text(String field, Node value, boolean required) {
    if (value instanceof ScalarNode s) {
      Tag tag = s.getTag();
      if (tag.equals(Tag.NULL) || (tag.equals(Tag.STR) && s.getValue().isBlank())) {
        emptyValue(field, required);
        return null;
      }
      if (tag.equals(Tag.INT) || tag.equals(Tag.FLOAT) || tag.equals(Tag.BOOL)) {
        error(
            line(value),
            field + " must be text, but it is " + kind(value),
            "quote it: " + field + ": \"" + s.getValue() + "\"");
        return null;
      }
      int bad = unprintable(s.getValue(), field.equals("description"));
      if (bad >= 0) {
        error(
            line(value),
            field + " contains the control character " + String.format("U+%04X", bad),
            field.equals("description")
                ? "remove it: a description may hold line breaks and tabs, no other control"
                    + " characters"
                : "remove it: " + field + " is one line of printable text");
        return null;
      }
      return s.getValue();
    }
    error(
        line(value),
        field + " must be text, but it is " + kind(value),
        "write it on one line, " + field + ": ..., or as a block, " + field + ": |");
    return null;
  }

  private void emptyValue(String field, boolean required) {
    int line = keyLine;
    boolean hash = line - 1 < lines.length && lines[line - 1].contains("#");
    String message =
        field
            + " has no value"
            + (hash ? " (an unquoted # starts a YAML comment, so what follows it is ignored)" : "");
    String fix =
        hash
            ? "quote the value: " + field + ": \"#...\""
            : required ? "give it a value" : "give it a value or remove the line";
    if (required) {
      error(line, message, fix);
    } else {
      warning(line, message, fix);
    }
  }

  /**
   * Reads {@code tools}: Claude Code's comma-separated text ({@code Read, Grep, Bash}) or a YAML
   * list. Commas inside parentheses ({@code Task(coder, reviewer)}) do not split.
   */
  private List<String> readTools(Node value) {
    List<String> result = new ArrayList<>();
    if (value instanceof ScalarNode s && s.getTag().equals(Tag.STR)) {
      if (s.getValue().isBlank()) {
        warning(
            line(value),
            "tools is empty, which cfn reads as no tools at all",
            "write tools: [] to say no tools, or tools: \"*\" to allow every tool");
        return List.of();
      }
      int position = 0;
      for (String part : splitTopLevel(s.getValue())) {
        position++;
        String tool = part.strip();
        if (tool.isEmpty()) {
          warning(
              line(value),
              "tools has an empty entry (position " + position + ")",
              "remove the extra comma");
          continue;
        }
        addTool(result, tool, line(value));
      }
      return result;
    }
    if (value instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
      warning(
          line(value),
          "tools has no value, which cfn reads as if there were no tools line (no tools)",
          "list the tools (tools: Read, Grep), write tools: [] for none, or tools: \"*\" for all");
      return null;
    }
    if (value instanceof SequenceNode seq) {
      int position = 0;
      for (Node item : seq.getValue()) {
        position++;
        if (item instanceof ScalarNode s && s.getTag().equals(Tag.STR) && !s.getValue().isBlank()) {
          addTool(result, s.getValue().strip(), line(item));
        } else {
          error(
              line(item),
              "tools entry " + position + " must be a tool name, but it is " + kind(item),
              "write a tool name such as Read, Grep or Bash");
        }
      }
      return result;
    }
    error(
        line(value),
        "tools must be tool names, but it is " + kind(value),
        "write them comma-separated, tools: Read, Grep, Bash, or as a YAML list, tools: [Read,"
            + " Grep]");
    return null;
  }

  private void addTool(List<String> tools, String tool, int line) {
    int bad = unprintable(tool, false);
    if (bad >= 0) {
      error(
          line,
          "a tool name contains the control character " + String.format("U+%04X", bad),
          "remove it: a tool name is one word such as Read or Bash");
      return;
    }
    if (tools.contains(tool)) {
      warning(line, "tool '" + tool + "' is listed twice", "remove one of them");
      return;
    }
    tools.add(tool);
  }

  private static List<String> splitTopLevel(String text) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    StringBuilder current = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && depth > 0) {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(current.toString());
        current.setLength(0);
        continue;
      }
      current.append(c);
    }
    parts.add(current.toString());
    return parts;
  }

  private List<String> readTextList(String field, Node value) {
    if (value instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
      emptyValue(field, false);
      return null;
    }
    if (!(value instanceof SequenceNode seq)) {
      error(
          line(value),
          field + " must be a list, but it is " + kind(value),
          "write it as a YAML list: " + field + ": [a, b], or one '- item' line per entry");
      return null;
    }
    List<String> result = new ArrayList<>();
    int position = 0;
    for (Node item : seq.getValue()) {
      position++;
      if (item instanceof ScalarNode s
          && s.getTag().equals(Tag.STR)
          && !s.getValue().isBlank()
          && unprintable(s.getValue(), false) < 0) {
        result.add(s.getValue().strip());
      } else {
        error(
            line(item),
            field + " entry " + position + " must be one line of text, but it is " + kind(item),
            "write each entry as a word or phrase without control characters; quote numbers");
      }
    }
    return result;
  }

  private void readPriority(Node value) {
    String v = text("priority", value, false);
    if (v == null) {
      return;
    }
    for (Priority p : Priority.values()) {
      if (p.label().equalsIgnoreCase(v.strip())) {
        priority = p;
        return;
      }
    }
    List<String> labels = List.of("low", "medium", "high", "critical");
    String near = closest(v.toLowerCase(Locale.ROOT), labels);
    error(
        line(value),
        "priority '" + v + "' is not one of low, medium, high, critical",
        near != null ? "write priority: " + near : "use one of low, medium, high, critical");
  }

  private void readHooks(Node value) {
    if (value instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
      emptyValue("hooks", false);
      return;
    }
    if (!(value instanceof MappingNode map)) {
      error(
          line(value),
          "hooks must be a map from moment to command, but it is " + kind(value),
          "write hooks: with indented lines such as pre: echo starting and post: echo done");
      return;
    }
    for (NodeTuple t : map.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k) || k.getTag().equals(Tag.NULL)) {
        error(
            line(t.getKeyNode()),
            "a hook name must be text, such as pre or post",
            "write the hook as pre: command");
        continue;
      }
      String key = k.getValue();
      Node v = t.getValueNode();
      if (hooks.containsKey(key)) {
        error(line(k), "hook '" + key + "' is given twice", "keep one of them");
        continue;
      }
      if (v instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
        warning(line(k), "hook '" + key + "' has no command", "give it a command or remove it");
        continue;
      }
      hooks.put(key, plainValue("hooks." + key, v, 1));
    }
  }

  private void readLifecycle(Node value) {
    if (value instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
      emptyValue("lifecycle", false);
      return;
    }
    if (!(value instanceof MappingNode map)) {
      error(
          line(value),
          "lifecycle must be a map, but it is " + kind(value),
          "write lifecycle: with indented lines max_retries: 3 and timeout_ms: 120000");
      return;
    }
    Integer maxRetries = null;
    Duration timeout = null;
    Map<String, Integer> seen = new HashMap<>();
    for (NodeTuple t : map.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k)) {
        error(line(t.getKeyNode()), "a lifecycle field name must be text", "write max_retries: 3");
        continue;
      }
      String key = k.getValue();
      Integer before = seen.putIfAbsent(key, line(k));
      if (before != null) {
        error(
            line(k),
            "field 'lifecycle." + key + "' is given twice (first on line " + before + ")",
            "keep one of them");
        continue;
      }
      Node v = t.getValueNode();
      switch (key) {
        case "max_retries" -> {
          Long n = wholeNumber("lifecycle.max_retries", v, 0, Integer.MAX_VALUE, "max_retries: 3");
          maxRetries = n == null ? null : n.intValue();
        }
        case "timeout_ms" -> {
          Long n = wholeNumber("lifecycle.timeout_ms", v, 1, Long.MAX_VALUE, "timeout_ms: 120000");
          timeout = n == null ? null : Duration.ofMillis(n);
        }
        case "max_turns" -> readMaxTurns("lifecycle.max_turns", line(k), v);
        default -> {
          String field = "lifecycle." + key;
          extra.put(field, plainValue(field, v, 1));
          String near = closest(key, List.of("max_retries", "max_turns", "timeout_ms"));
          warning(
              line(k),
              "unknown field '" + field + "' is kept in extra but cfn does not use it",
              near != null
                  ? "did you mean lifecycle." + near + "?"
                  : "lifecycle knows max_retries, max_turns and timeout_ms; remove it unless"
                      + " another tool reads it");
        }
      }
    }
    lifecycle = new Lifecycle(maxRetries, timeout);
  }

  /**
   * Reads the turn limit, which the file may give as {@code lifecycle.max_turns} or, as Claude Code
   * spells it, as a top-level {@code maxTurns} (or {@code max_turns}); giving it twice is an error.
   */
  private void readMaxTurns(String field, int fieldLine, Node value) {
    if (maxTurnsField != null) {
      error(
          fieldLine,
          "the turn limit is given twice, as "
              + maxTurnsField
              + " (line "
              + maxTurnsLine
              + ") and as "
              + field,
          "keep one of them");
      return;
    }
    maxTurnsField = field;
    maxTurnsLine = fieldLine;
    String name = field.substring(field.lastIndexOf('.') + 1);
    Long n = wholeNumber(field, value, 1, Integer.MAX_VALUE, name + ": 20");
    maxTurns = n == null ? null : n.intValue();
  }

  private Long wholeNumber(String field, Node value, long min, long max, String example) {
    String fix = "write a whole number of at least " + min + " without quotes: " + example;
    if (!(value instanceof ScalarNode s) || !s.getTag().equals(Tag.INT)) {
      error(line(value), field + " must be a whole number, but it is " + kind(value), fix);
      return null;
    }
    Object n;
    try {
      n = SCALARS.get(Tag.INT).construct(s);
    } catch (RuntimeException e) {
      n = null;
    }
    if (!(n instanceof Number number) || n instanceof java.math.BigInteger) {
      error(line(value), field + " " + s.getValue() + " is too large", fix);
      return null;
    }
    long v = number.longValue();
    if (v < min) {
      error(line(value), field + " must be at least " + min + ", but it is " + v, fix);
      return null;
    }
    if (v > max) {
      error(line(value), field + " must be at most " + max + ", but it is " + v, fix);
      return null;
    }
    return v;
  }

  private void checkModel() {
    if (AgentDefinition.MODEL_ALIASES.contains(model)) {
      return;
    }
    boolean token = MODEL_TOKEN.matcher(model).matches();
    // With a provider, any well-formed name may be that provider's model (ollama's "mistral").
    if (token && (provider != null || MODEL_ID_MARK.matcher(model).matches())) {
      return;
    }
    String near = closest(model.toLowerCase(Locale.ROOT), AgentDefinition.MODEL_ALIASES);
    if (token && near == null && MODEL_WORD.matcher(model).matches()) {
      // A word that is no known alias and no misspelling of one: most likely an alias newer
      // than cfn (Claude Code agent files say model: fable). Anthropic resolves its own aliases.
      warning(
          modelLine,
          "model '"
              + model
              + "' is not an alias cfn knows (sonnet, opus, haiku, inherit), so it is sent"
              + " unchanged to an Anthropic provider; any other provider refuses it",
          "keep it if Anthropic knows the alias; otherwise write a full model id such as"
              + " claude-sonnet-4-5, or add provider: to name that provider's model");
      return;
    }
    error(
        modelLine,
        "model '" + model + "' is neither a model alias nor a model id",
        (near != null ? "did you mean model: " + near + "? Otherwise use " : "use ")
            + "sonnet, opus, haiku or inherit, or a full model id such as claude-sonnet-4-5"
            + " (with provider: for another provider's model)");
  }

  // ---------------------------------------------------------------- limits

  /**
   * A frontmatter that breaks a limit while it is parsed: an alias, or nesting deeper than {@link
   * #MAX_DEPTH}. Thrown from {@link LimitedParser} before the composer sees the event.
   */
  private static final class LimitExceeded extends RuntimeException {
    final Optional<Mark> mark;
    final String fix;

    LimitExceeded(Optional<Mark> mark, String message, String fix) {
      super(message, null, false, false);
      this.mark = mark;
      this.fix = fix;
    }
  }

  /**
   * The YAML event stream with two limits applied as each event is consumed, before the composer
   * builds a node from it.
   *
   * <p>Aliases: YAML lets {@code *name} stand for the node marked {@code &name}, so a 4 KB text of
   * doubling aliases (each list holding the previous one twice) describes 2^24 leaves; composing
   * shares the nodes, but anything that walks the value expands them. snakeyaml-engine's {@code
   * maxAliasesForCollections} counts aliases, not their expansion, so it does not stop this. Claude
   * Code agent frontmatter never needs an alias, so every alias is refused (an anchor alone is
   * harmless and allowed).
   *
   * <p>Depth: the composer recurses once per nested list or map, so {@code [[[…]]]} 2,000 deep
   * overflows the stack; snakeyaml-engine 3.2 has no nesting limit, so it is counted here, from the
   * start and end events, and refused beyond {@link #MAX_DEPTH}.
   */
  private static final class LimitedParser implements Parser {
    private final Parser events;
    private int depth;

    LimitedParser(Parser events) {
      this.events = events;
    }

    @Override
    public boolean checkEvent(Event.ID id) {
      return events.checkEvent(id);
    }

    @Override
    public Event peekEvent() {
      return events.peekEvent();
    }

    @Override
    public boolean hasNext() {
      return events.hasNext();
    }

    @Override
    public Event next() {
      Event e = events.next();
      switch (e.getEventId()) {
        case Alias ->
            throw new LimitExceeded(
                e.getStartMark(),
                "the frontmatter uses a YAML alias (*"
                    + ((org.snakeyaml.engine.v2.events.AliasEvent) e).getAlias()
                    + "), which agent files may not use",
                "write the value out in full instead of referring to an &anchor");
        case SequenceStart, MappingStart -> {
          if (++depth > MAX_DEPTH) {
            throw new LimitExceeded(
                e.getStartMark(),
                "the frontmatter is nested more than " + MAX_DEPTH + " lists or maps deep",
                "flatten it: agent fields need a few levels at most");
          }
        }
        case SequenceEnd, MappingEnd -> depth--;
        default -> {}
      }
      return e;
    }
  }

  // ---------------------------------------------------------------- values

  /** The YAML value as plain Java: strings, numbers, booleans, null, lists and maps. */
  private Object plainValue(String field, Node node, int depth) {
    if (depth > MAX_DEPTH) {
      error(
          line(node),
          "field '" + field + "' is nested more than " + MAX_DEPTH + " levels deep",
          "flatten it, and check that no alias (*name) refers to the map or list that holds it");
      return null;
    }
    if (node instanceof ScalarNode s) {
      ConstructNode c = SCALARS.get(s.getTag());
      if (c != null && !s.getTag().equals(Tag.STR)) {
        try {
          return c.construct(s);
        } catch (RuntimeException e) {
          return s.getValue();
        }
      }
      return s.getValue();
    }
    if (node instanceof SequenceNode seq) {
      List<Object> list = new ArrayList<>();
      for (Node item : seq.getValue()) {
        list.add(plainValue(field, item, depth + 1));
      }
      return list;
    }
    if (node instanceof MappingNode map) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (NodeTuple t : map.getValue()) {
        m.put(
            String.valueOf(plainValue(field, t.getKeyNode(), depth + 1)),
            plainValue(field, t.getValueNode(), depth + 1));
      }
      return m;
    }
    return null;
  }

  /**
   * The first character of {@code text} that could forge or hide output when printed (see {@link
   * Problem#printable(CharSequence)}), or -1; line breaks and tabs pass when {@code multiline}.
   */
  static int unprintable(String text, boolean multiline) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (multiline && (c == '\n' || c == '\t')) {
        continue;
      }
      if (Problem.isUnprintable(c)) {
        return c;
      }
    }
    return -1;
  }

  private static String kind(Node node) {
    if (node instanceof SequenceNode) {
      return "a list";
    }
    if (node instanceof MappingNode) {
      return "a map";
    }
    if (node instanceof ScalarNode s) {
      Tag t = s.getTag();
      if (t.equals(Tag.INT) || t.equals(Tag.FLOAT)) {
        return "the number " + s.getValue();
      }
      if (t.equals(Tag.BOOL)) {
        return "the boolean " + s.getValue();
      }
      if (t.equals(Tag.NULL)) {
        return "empty";
      }
      String v = s.getValue();
      return "the text '" + (v.length() > 60 ? v.substring(0, 57) + "..." : v) + "'";
    }
    return "a " + node.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  // ---------------------------------------------------------------- lines and hints

  private int line(Node node) {
    return node.getStartMark().map(this::fileLine).orElse(openLine);
  }

  private int fileLine(Mark mark) {
    return yamlFirstLine + mark.getLine();
  }

  private String yamlFix(String problem) {
    if (problem.contains("TAB")) {
      return "indent with spaces, not tabs; cfn agent fix " + file + " does it for you";
    }
    if (problem.contains("mapping values are not allowed")) {
      return "quote the value: a ': ' inside an unquoted value starts a new field (write field:"
          + " \"...\", or use a block: field: | and the text indented below); cfn agent fix "
          + file
          + " quotes it for you";
    }
    if (problem.contains("stream end") || problem.contains("end of stream")) {
      return "close the quote or bracket opened on this line";
    }
    if (problem.contains("could not find expected ':'")) {
      return "write each field as name: value, and indent continuation lines of a long value";
    }
    if (problem.contains("found character") || problem.contains("cannot start any token")) {
      return "quote the value: text starting with @, ` or another reserved character needs quotes;"
          + " cfn agent fix "
          + file
          + " quotes it for you";
    }
    return "check the indentation and quoting on that line and the one before it; quote values"
        + " that contain ': ' or start with [, {, *, &, !, | or >";
  }

  private String suggestedName() {
    Path fileName = file.getFileName();
    String base = fileName == null ? "my-agent" : fileName.toString();
    if (base.toLowerCase(Locale.ROOT).endsWith(".md")) {
      base = base.substring(0, base.length() - 3);
    }
    String slug = slug(base);
    return slug.isEmpty() ? "my-agent" : slug;
  }

  /** The closest name-rule-abiding form of {@code text}: {@code Code Reviewer} → code-reviewer. */
  static String slug(String text) {
    String s =
        text.strip()
            .replaceAll("([a-z0-9])([A-Z])", "$1-$2")
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9.]+", "-")
            .replaceAll("[.-]*-[.-]*", "-")
            .replaceAll("\\.{2,}", ".")
            .replaceAll("^[.-]+|[.-]+$", "");
    return s.isEmpty() ? "my-agent" : s;
  }

  /** The candidate within edit distance 2 of {@code word}, if there is one. */
  static String closest(String word, Collection<String> candidates) {
    String best = null;
    int bestDistance = 3;
    for (String c : candidates) {
      int d = distance(word.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    return best;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private void error(int line, String message, String fix) {
    problems.add(new Problem(file, line, Severity.ERROR, message, fix));
  }

  private void warning(int line, String message, String fix) {
    problems.add(new Problem(file, line, Severity.WARNING, message, fix));
  }
}
