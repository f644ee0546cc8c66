package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ToolSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A built-in tool that writes a file of its {@link Workspace}: after each of its successful calls
 * {@link ToolExecutor} runs the post-edit hooks on the file it wrote.
 */
record FileEditingTool(FunctionTool tool, Path workspace) implements Tool {
  FileEditingTool {
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(workspace, "workspace");
  }

  @Override
  public ToolSpec spec() {
    return tool.spec();
  }

  @Override
  public boolean sideEffecting() {
    return tool.sideEffecting();
  }

  @Override
  public ToolResult call(JsonNode arguments, ToolContext context) throws Exception {
    return tool.call(arguments, context);
  }

  /** The file a successful call with {@code arguments} wrote, relative to the workspace. */
  String editedPath(JsonNode arguments) {
    String given = arguments.path("path").asText();
    try {
      return String.join("/", Workspace.components(given));
    } catch (Workspace.PathRefusedException e) {
      return given; // not reached: the call that succeeded opened it
    }
  }

  @Override
  public String toString() {
    return tool.toString();
  }
}
