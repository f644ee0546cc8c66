package dev.cfn.core;

/** Completes a request's future when the request itself was dead-lettered. */
public final class UndeliverableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final DeadLetter.Reason reason;

  UndeliverableException(DeadLetter.Reason reason, String detail) {
    super("request was not handled (" + reason + "): " + detail);
    this.reason = reason;
  }

  /** Why the request was dead-lettered. */
  public DeadLetter.Reason reason() {
    return reason;
  }
}
