package dev.cfn.core.spi;

/**
 * A {@link MemoryStore} operation failed: the file cannot be opened or written, it is not a memory
 * file or was written by a newer cfn, a record fails its checksum, or the store is closed. The
 * message says what happened and what to do; a failed write changed nothing.
 */
public class MemoryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A failure with its explanation. */
  public MemoryException(String message) {
    super(message);
  }

  /** A failure with its explanation and cause. */
  public MemoryException(String message, Throwable cause) {
    super(message, cause);
  }
}
