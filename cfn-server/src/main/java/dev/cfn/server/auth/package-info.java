/**
 * API tokens and what they allow. Public: {@link dev.cfn.server.auth.TokenStore} (the token file,
 * used by {@code cfn serve} and {@code cfn token}), {@link dev.cfn.server.auth.ApiToken} and {@link
 * dev.cfn.server.auth.IssuedToken} (a token as stored, and as just issued with its secret), {@link
 * dev.cfn.server.auth.Role} and {@link dev.cfn.server.auth.Scope}. Depends on cfn-store's internal
 * {@code dev.cfn.store.sqlite} (connection, migrations, owner-only files) and the JDK.
 */
package dev.cfn.server.auth;
