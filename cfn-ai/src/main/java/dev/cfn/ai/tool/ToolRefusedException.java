package dev.cfn.ai.tool;

/**
 * Thrown by a built-in tool that refuses what the model asked (a workspace path outside, through a
 * link, or to cfn's own files): the {@link ToolExecutor} gives the model {@link #getMessage()} as
 * an error result and records the call as {@link ToolAudit.Outcome#DENIED} with {@link
 * #auditDetail()}, a few fixed words that never hold argument values.
 */
final class ToolRefusedException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String auditDetail;

  ToolRefusedException(String message, String auditDetail) {
    super(message);
    this.auditDetail = auditDetail;
  }

  String auditDetail() {
    return auditDetail;
  }
}
