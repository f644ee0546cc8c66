package dev.cfn.server.alerts;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sends an alert notification to the configured URL: a JSON body POSTed with {@code
 * X-Cfn-Timestamp} (epoch seconds) and {@code X-Cfn-Signature: sha256=HEX}, the HMAC-SHA256 of
 * {@code TIMESTAMP + "." + BODY} under the webhook's secret, so the receiver can check that the
 * node sent it and when (reject old timestamps to refuse replays). A connection failure, a 429 or a
 * 5xx is retried up to {@code retries} more times, waiting {@code backoff}, then twice that, and so
 * on; any other status is final.
 */
public final class Webhook {
  /** The header of the signature. */
  public static final String SIGNATURE = "X-Cfn-Signature";

  /** The header of the timestamp that the signature covers. */
  public static final String TIMESTAMP = "X-Cfn-Timestamp";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final AlertConfig.WebhookSettings settings;
  private final Duration backoff;
  private final Clock clock;
  private final HttpClient client;

  /** The outcome of one notification: delivered or not, after how many attempts, and why. */
  public record Delivery(boolean delivered, int attempts, String detail) {}

  public Webhook(AlertConfig.WebhookSettings settings, Duration backoff, Clock clock) {
    this.settings = settings;
    this.backoff = backoff;
    this.clock = clock;
    this.client = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
  }

  /** True when a URL is configured. */
  public boolean configured() {
    return settings.url() != null;
  }

  /** The HMAC-SHA256 signature header value of {@code body} sent at {@code timestamp}. */
  public static String sign(String secret, String timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      byte[] key = secret.getBytes(StandardCharsets.UTF_8);
      mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, "HmacSHA256"));
      mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /** POSTs {@code payload} as JSON, retrying as the settings say; blocks until done. */
  public Delivery send(Map<String, Object> payload) throws InterruptedException {
    if (settings.url() == null) {
      return new Delivery(false, 0, "no webhook url is configured");
    }
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(payload);
    } catch (IOException e) {
      return new Delivery(false, 0, "the payload could not be written: " + e.getMessage());
    }
    String why = "";
    int attempts = 0;
    long wait = backoff.toMillis();
    for (int i = 0; i <= settings.retries(); i++) {
      if (i > 0) {
        Thread.sleep(wait);
        wait *= 2;
      }
      attempts++;
      String ts = Long.toString(clock.instant().getEpochSecond());
      HttpRequest request =
          HttpRequest.newBuilder(settings.url())
              .timeout(settings.timeout())
              .header("Content-Type", "application/json")
              .header("User-Agent", "cfn-alerts")
              .header(TIMESTAMP, ts)
              .header(SIGNATURE, sign(settings.secret(), ts, body))
              .POST(HttpRequest.BodyPublishers.ofByteArray(body))
              .build();
      try {
        HttpResponse<Void> r = client.send(request, HttpResponse.BodyHandlers.discarding());
        int s = r.statusCode();
        if (s >= 200 && s < 300) {
          return new Delivery(true, attempts, "HTTP " + s);
        }
        why = "HTTP " + s;
        if (s != 429 && s < 500) {
          return new Delivery(false, attempts, why + " (not retried)");
        }
      } catch (IOException e) {
        why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      }
    }
    return new Delivery(false, attempts, why);
  }
}
