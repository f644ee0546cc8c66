/**
 * API tokens, client certificates and what they allow. Public: {@link
 * dev.cfn.server.auth.TokenStore} (the token file, used by {@code cfn serve}, {@code cfn token} and
 * {@code cfn cert}: tokens by the SHA-256 of their secret, client certificates by the SHA-256 of
 * their encoding), {@link dev.cfn.server.auth.ApiToken} (a principal as stored: a token's, or a
 * client certificate's with an id starting {@code crt_}), {@link dev.cfn.server.auth.IssuedToken}
 * (a token as just issued with its secret), {@link dev.cfn.server.auth.ClientCertificate} (a
 * trusted client certificate: its principal, fingerprint and subject), {@link
 * dev.cfn.server.auth.Role} and {@link dev.cfn.server.auth.Scope}. Depends on cfn-store's internal
 * {@code dev.cfn.store.sqlite} (connection, migrations, owner-only files) and the JDK.
 */
package dev.cfn.server.auth;
