package dev.cfn.server.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * What the server's TLS handshake checks of a client certificate (mutual TLS, {@code cfn serve
 * --client-certs}): that there is one, and that it may authenticate a TLS client (when it has an
 * extended key usage, it includes {@code clientAuth}). It does not decide who may call: the
 * handshake itself proves the client holds the certificate's private key, and each request then
 * looks the certificate up by its SHA-256 fingerprint in the token store ({@code
 * TokenStore.authenticateCertificate}), which answers with a principal, or refuses an unknown,
 * expired or revoked certificate with a 401 the audit log records. Deciding there rather than in
 * the handshake gives the client a problem document that says what is wrong, makes a revocation
 * take effect on the next request of an open connection, and keeps the bearer-token path open to
 * clients without a certificate.
 *
 * <p>No issuer is advertised ({@link #getAcceptedIssuers} is empty), so a client may offer any
 * certificate; trust is the registration ({@code cfn cert issue}, {@code cfn cert trust}), not a
 * CA. It never acts for a client of another server.
 */
public final class ClientCertificateTrust extends X509ExtendedTrustManager {
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final String ANY_USAGE = "2.5.29.37.0";

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain);
  }

  private static void check(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("the client sent an empty certificate chain");
    }
    List<String> usage;
    try {
      usage = chain[0].getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw new CertificateException("the client certificate's key usage cannot be read", e);
    }
    if (usage != null && !usage.contains(CLIENT_AUTH) && !usage.contains(ANY_USAGE)) {
      throw new CertificateException(
          "the client certificate may not authenticate a TLS client (no clientAuth usage)");
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("this trust manager checks clients of cfn serve only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("this trust manager checks clients of cfn serve only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("this trust manager checks clients of cfn serve only");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
