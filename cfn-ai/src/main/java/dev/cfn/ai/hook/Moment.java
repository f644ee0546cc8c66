package dev.cfn.ai.hook;

import java.util.Locale;

/** When a hook runs. A hook of a {@code PRE_} moment may block what follows; the others may not. */
public enum Moment {
  /** Before an agent starts a task; a failure fails the task with the hook's message. */
  PRE_TASK,
  /** After an agent finished a task (answered or failed); observes only. */
  POST_TASK,
  /** Before a tool call runs; a failure refuses the call with an error result the model reads. */
  PRE_TOOL,
  /** After a tool call ran; what the hook says is added to the result the model reads. */
  POST_TOOL,
  /**
   * After a built-in file tool wrote a file; what the hook says (such as a format, lint and test
   * report) is added to the result the model reads.
   */
  POST_EDIT;

  /** The moment as events and messages name it: {@code pre-task}, {@code post-edit}... */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Whether a failing hook at this moment blocks the action. */
  public boolean blocks() {
    return this == PRE_TASK || this == PRE_TOOL;
  }
}
