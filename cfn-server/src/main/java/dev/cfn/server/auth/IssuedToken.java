package dev.cfn.server.auth;

/**
 * A token just created: the secret, which exists only here and is shown once, and what the store
 * keeps about it.
 *
 * @param secret the bearer token ({@code cfn_} and 43 base64url characters: 256 random bits)
 * @param token what the store keeps
 */
public record IssuedToken(String secret, ApiToken token) {
  @Override
  public String toString() {
    return "IssuedToken[" + token.id() + "]"; // never the secret in a log line
  }
}
