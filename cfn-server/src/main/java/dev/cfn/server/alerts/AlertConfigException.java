package dev.cfn.server.alerts;

/** The alert rules file is not valid: the message names the file, the rule, the key and the fix. */
public final class AlertConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AlertConfigException(String message) {
    super(message);
  }
}
