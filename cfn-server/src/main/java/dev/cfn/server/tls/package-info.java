/**
 * Transport security: {@link dev.cfn.server.tls.ServerCertificate}, the server's certificate and
 * key under {@code .cfn/tls/}, generated self-signed with BouncyCastle on a first start; {@link
 * dev.cfn.server.tls.ClientCertificateTrust}, what the handshake checks of a client certificate
 * when {@code cfn serve --client-certs} asks for one (who it is, the token store decides per
 * request); and {@link dev.cfn.server.tls.ClientIdentity}, a client's key and certificate as {@code
 * cfn cert issue} makes them and a client presents them. The connector that serves TLS 1.3 only
 * with them is in {@code dev.cfn.server}. Depends on BouncyCastle (bcpkix), cfn-store's {@code
 * PrivateFiles} and SLF4J.
 */
package dev.cfn.server.tls;
