package dev.cfn.ai.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.core.AgentId;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a hook is told: one moment of an agent's work ({@link Moment}) with its details. A {@link
 * CommandHook} reads it as one JSON object on stdin ({@link #toJson()}), for example:
 *
 * <pre>{@code
 * {"event":"pre-tool","agent":"coder/1","tool":"file_write","arguments":{"path":"a.py","content":"..."}}
 * {"event":"post-edit","agent":"coder/1","tool":"file_write","path":"a.py","file":"/work/a.py","workspace":"/work"}
 * }</pre>
 */
public sealed interface HookEvent
    permits HookEvent.PreTask,
        HookEvent.PostTask,
        HookEvent.PreTool,
        HookEvent.PostTool,
        HookEvent.PostEdit {

  /** The moment this event is for. */
  Moment moment();

  /** The agent whose work this is. */
  AgentId agent();

  /** The event as one JSON object: {@code event}, {@code agent} and the details. */
  ObjectNode toJson();

  /**
   * An agent is about to start a task.
   *
   * @param agent the agent
   * @param task the task's prompt
   */
  record PreTask(AgentId agent, String task) implements HookEvent {
    /** Requires both parts. */
    public PreTask {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(task, "task");
    }

    @Override
    public Moment moment() {
      return Moment.PRE_TASK;
    }

    @Override
    public ObjectNode toJson() {
      return EventJson.start(this).put("task", task);
    }
  }

  /**
   * An agent finished a task, with an answer or a failure.
   *
   * @param agent the agent
   * @param task the task's prompt
   * @param succeeded whether the agent answered
   * @param result the answer's text, or the failure's reason
   */
  record PostTask(AgentId agent, String task, boolean succeeded, String result)
      implements HookEvent {
    /** Requires every part. */
    public PostTask {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(task, "task");
      Objects.requireNonNull(result, "result");
    }

    @Override
    public Moment moment() {
      return Moment.POST_TASK;
    }

    @Override
    public ObjectNode toJson() {
      return EventJson.start(this)
          .put("task", task)
          .put("succeeded", succeeded)
          .put("result", result);
    }
  }

  /**
   * The model asked for a tool call that passed the permission, lookup and schema checks and is
   * about to run.
   *
   * @param agent the agent
   * @param tool the tool's name
   * @param arguments the call's arguments (a JSON object)
   */
  record PreTool(AgentId agent, String tool, JsonNode arguments) implements HookEvent {
    /** Requires every part. */
    public PreTool {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(tool, "tool");
      Objects.requireNonNull(arguments, "arguments");
    }

    @Override
    public Moment moment() {
      return Moment.PRE_TOOL;
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode json = EventJson.start(this).put("tool", tool);
      json.set("arguments", arguments);
      return json;
    }
  }

  /**
   * A tool call ran (with any outcome: an error result too).
   *
   * @param agent the agent
   * @param tool the tool's name
   * @param arguments the call's arguments
   * @param result the result's text, as the model will read it
   * @param isError whether the result is an error
   */
  record PostTool(AgentId agent, String tool, JsonNode arguments, String result, boolean isError)
      implements HookEvent {
    /** Requires every part. */
    public PostTool {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(tool, "tool");
      Objects.requireNonNull(arguments, "arguments");
      Objects.requireNonNull(result, "result");
    }

    @Override
    public Moment moment() {
      return Moment.POST_TOOL;
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode json = EventJson.start(this).put("tool", tool);
      json.set("arguments", arguments);
      json.putObject("result").put("content", result).put("isError", isError);
      return json;
    }
  }

  /**
   * A built-in file tool wrote a file successfully.
   *
   * @param agent the agent
   * @param tool the tool that wrote it ({@code file_write})
   * @param workspace the workspace's root, absolute
   * @param path the file as the model named it, relative to the workspace
   */
  record PostEdit(AgentId agent, String tool, Path workspace, String path) implements HookEvent {
    /** Requires every part; the workspace must be absolute. */
    public PostEdit {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(tool, "tool");
      Objects.requireNonNull(workspace, "workspace");
      Objects.requireNonNull(path, "path");
      if (!workspace.isAbsolute()) {
        throw new IllegalArgumentException("the workspace must be absolute, got " + workspace);
      }
    }

    /** The file written: the workspace's root and the path, absolute. */
    public Path file() {
      return workspace.resolve(path).normalize();
    }

    /** The file name's extension, lowercase, without the dot; empty when it has none. */
    public String extension() {
      Path fileName = file().getFileName();
      String name = fileName == null ? "" : fileName.toString();
      int dot = name.lastIndexOf('.');
      return dot <= 0 ? "" : name.substring(dot + 1).toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public Moment moment() {
      return Moment.POST_EDIT;
    }

    @Override
    public ObjectNode toJson() {
      return EventJson.start(this)
          .put("tool", tool)
          .put("path", path)
          .put("file", file().toString())
          .put("workspace", workspace.toString());
    }
  }
}
