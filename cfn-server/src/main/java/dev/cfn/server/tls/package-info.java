/**
 * Transport security: {@link dev.cfn.server.tls.ServerCertificate}, the server's certificate and
 * key under {@code .cfn/tls/}, generated self-signed with BouncyCastle on a first start. The
 * connector that serves TLS 1.3 only with it is in {@code dev.cfn.server}. Depends on BouncyCastle
 * (bcpkix), cfn-store's {@code PrivateFiles} and SLF4J.
 */
package dev.cfn.server.tls;
