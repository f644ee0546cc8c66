package dev.cfn.ai.tool;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every tool a runtime offers, by name, with its input schema compiled. Registering compiles the
 * schema once ({@link #register(Tool)} fails on a bad one), so calls only validate. Which of these
 * tools an agent may use is decided per agent by {@link ToolPermissions}; the registry itself
 * grants nothing.
 *
 * <p>Thread-safe: tools may be registered and removed (an MCP server connecting or going away)
 * while agents call others.
 */
public final class ToolRegistry {
  /** Makes {@link #registerAll} all-or-nothing among callers; private, so no caller can hold it. */
  private final Object lock = new Object();

  private final ConcurrentHashMap<String, Registered> tools = new ConcurrentHashMap<>();

  /** A tool with its compiled input schema. */
  record Registered(Tool tool, ArgumentSchema schema) {}

  /** An empty registry. */
  public ToolRegistry() {}

  /**
   * Registers {@code tool} under its name.
   *
   * @return this registry
   * @throws IllegalArgumentException when the name is taken or the input schema is not a valid JSON
   *     Schema (the message lists the problems)
   */
  public ToolRegistry register(Tool tool) {
    Objects.requireNonNull(tool, "tool");
    String name = tool.name();
    Registered entry =
        new Registered(tool, ArgumentSchema.compile(name, tool.spec().inputSchema()));
    if (tools.putIfAbsent(name, entry) != null) {
      throw new IllegalArgumentException(
          "a tool named '" + name + "' is already registered; unregister it first or rename one");
    }
    return this;
  }

  /**
   * Registers every {@link ToolMethod} of {@code withAnnotatedMethods} as a tool (or {@code
   * withAnnotatedMethods} itself when it is a {@link Tool}). Either all of them are registered or,
   * on an error, none.
   *
   * @return the tools registered, in name order
   * @throws IllegalArgumentException when the object has no tool method, a method cannot be a tool
   *     (the message names it and says why), or a name is taken
   */
  public List<Tool> register(Object withAnnotatedMethods) {
    Objects.requireNonNull(withAnnotatedMethods, "withAnnotatedMethods");
    if (withAnnotatedMethods instanceof Tool tool) {
      register(tool);
      return List.of(tool);
    }
    List<Tool> found = AnnotatedTool.scan(withAnnotatedMethods);
    registerAll(found);
    return found;
  }

  /**
   * Registers {@code all}: either every one or, on an error, none.
   *
   * @throws IllegalArgumentException as {@link #register(Tool)}
   */
  public ToolRegistry registerAll(Collection<? extends Tool> all) {
    synchronized (lock) {
      List<String> done = new ArrayList<>();
      try {
        for (Tool tool : all) {
          register(tool);
          done.add(tool.name());
        }
      } catch (RuntimeException e) {
        done.forEach(tools::remove);
        throw e;
      }
      return this;
    }
  }

  /** Removes the tool named {@code name}; false when there is none. */
  public boolean unregister(String name) {
    return tools.remove(name) != null;
  }

  /** True when no tool is registered. */
  boolean isEmpty() {
    return tools.isEmpty();
  }

  /** The tool named {@code name}, if registered. */
  public Optional<Tool> find(String name) {
    Registered entry = tools.get(name);
    return entry == null ? Optional.empty() : Optional.of(entry.tool());
  }

  /** Every registered tool, in name order. */
  public List<Tool> tools() {
    return tools.values().stream()
        .map(Registered::tool)
        .sorted(Comparator.comparing(Tool::name))
        .toList();
  }

  Registered entry(String name) {
    return tools.get(name);
  }
}
