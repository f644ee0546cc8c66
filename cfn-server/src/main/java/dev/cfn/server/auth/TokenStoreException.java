package dev.cfn.server.auth;

/** The token store file cannot be opened, read or written; the message says what to do. */
public final class TokenStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A failure with what happened and what to do. */
  public TokenStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
