package dev.cfn.store.audit;

import java.io.Serial;

/**
 * The audit log cannot be opened or written: it is damaged, signed with another key, in use by
 * another process, or the disk failed. The message says what happened and, in {@code (fix: ...)},
 * what to do. An append that throws this was not recorded.
 */
public final class AuditException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  /** A failure whose message names what is wrong and the fix. */
  public AuditException(String message) {
    super(message);
  }

  /** A failure with its cause. */
  public AuditException(String message, Throwable cause) {
    super(message, cause);
  }
}
