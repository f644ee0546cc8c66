package dev.cfn.cli;

import java.net.http.HttpClient;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** For tests only: an HTTPS client that accepts any certificate (the server's is self-signed). */
final class TrustAll {
  private TrustAll() {}

  static HttpClient client() throws Exception {
    TrustManager[] all = {
      new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      }
    };
    SSLContext tls = SSLContext.getInstance("TLSv1.3");
    tls.init(null, all, null);
    return HttpClient.newBuilder().sslContext(tls).build();
  }
}
