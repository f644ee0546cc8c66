package dev.cfn.server.mcp;

import java.io.Serial;

/**
 * A tool handler's refusal or failure, told to the client as a tool error: the message says what is
 * wrong and how to fix it. Never a crash of the server.
 */
final class ToolFailure extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  ToolFailure(String message) {
    super(message);
  }
}
