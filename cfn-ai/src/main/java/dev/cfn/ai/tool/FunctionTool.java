package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ToolSpec;
import java.util.Objects;

/** A tool whose body is a {@link ToolHandler}. */
record FunctionTool(ToolSpec spec, boolean sideEffecting, ToolHandler handler) implements Tool {
  FunctionTool {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(handler, "handler");
  }

  @Override
  public ToolResult call(JsonNode arguments, ToolContext context) throws Exception {
    return handler.handle(arguments, context);
  }

  @Override
  public String toString() {
    return "Tool[" + spec.name() + "]";
  }
}
