package dev.cfn.core.spi;

/**
 * A {@link CallLogStore} operation failed: the file cannot be opened or written, it is not a call
 * log or was written by a newer cfn, a record fails its checksum, or the store is closed. The
 * message says what happened and what to do; a failed write changed nothing.
 */
public class CallLogException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A failure with its explanation. */
  public CallLogException(String message) {
    super(message);
  }

  /** A failure with its explanation and cause. */
  public CallLogException(String message, Throwable cause) {
    super(message, cause);
  }
}
