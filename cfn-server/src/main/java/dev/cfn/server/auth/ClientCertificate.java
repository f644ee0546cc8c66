package dev.cfn.server.auth;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A client certificate the node trusts (mTLS), as the token store keeps it: the principal it stands
 * for (an {@link ApiToken} whose id starts with {@code crt_}: the same role, scopes, expiry and
 * revocation as a bearer token), the certificate's SHA-256 fingerprint, its subject and the end of
 * its validity. Never a key: the client keeps its private key, and proves it holds it in every TLS
 * handshake.
 *
 * @param principal who a client presenting the certificate is
 * @param fingerprint the SHA-256 of the certificate's DER encoding, colon-separated upper-case hex
 * @param subject the certificate's subject (for the listing only; never used to decide)
 * @param notAfter the end of the certificate's own validity
 */
public record ClientCertificate(
    ApiToken principal, String fingerprint, String subject, Instant notAfter) {

  /** Requires every value. */
  public ClientCertificate {
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(notAfter, "notAfter");
  }

  /** The SHA-256 of {@code cert}'s DER encoding. */
  public static byte[] sha256(X509Certificate cert) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot hash a certificate: " + e.getMessage(), e);
    }
  }

  /** {@code cert}'s SHA-256 fingerprint as colon-separated upper-case hex (as cfn prints them). */
  public static String fingerprintOf(X509Certificate cert) {
    return HexFormat.ofDelimiter(":").withUpperCase().formatHex(sha256(cert));
  }
}
