package dev.cfn.core.spi;

/**
 * The journal could not store or update a reliable message (disk full, unwritable, corrupt). What
 * failed was not acknowledged; the message says what to do.
 */
public class JournalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A failure with its explanation. */
  public JournalException(String message) {
    super(message);
  }

  /** A failure with its explanation and cause. */
  public JournalException(String message, Throwable cause) {
    super(message, cause);
  }
}
