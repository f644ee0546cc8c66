package dev.cfn.store.crypto;

import java.io.Serial;

/**
 * A keyring or a sealed record cannot be used: a key file is missing, damaged or readable by
 * others, the master key does not match the data keys, or a record fails authentication. The
 * message says what happened and, in {@code (fix: ...)}, what to do. Nothing was changed.
 */
public final class KeyringException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  /** A failure whose message names what is wrong and the fix. */
  public KeyringException(String message) {
    super(message);
  }

  /** A failure with its cause. */
  public KeyringException(String message, Throwable cause) {
    super(message, cause);
  }
}
