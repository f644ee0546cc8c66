package dev.cfn.cluster.nats;

import io.nats.client.Connection;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.ClusterInfo;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.support.JsonParseException;
import io.nats.client.support.JsonParser;
import io.nats.client.support.JsonValue;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads a nats-server's monitoring endpoints ({@code /varz} and {@code /jsz}) and says whether it
 * can carry cfn's reliable messages safely: its version, whether JetStream is on, how its file
 * store syncs to disk, whether it is clustered, and how cfn's stream is replicated.
 *
 * <p>What it warns about, and why: nats-server before 2.10 cannot set {@code sync_interval} and
 * fsyncs every 2 minutes, so a message it acknowledged survives a process kill but not a power
 * loss; 2.10 and later do the same unless {@code jetstream { sync_interval: always }}; a stream
 * with one replica (R1) loses what it holds with its one server; a server outside a cluster cannot
 * hold R3. cfn keeps PostgreSQL as the source of truth (a reconciler republishes what JetStream
 * lost), so these are warnings, not errors; an unreachable server, JetStream switched off, or a
 * stream of the wrong kind are errors.
 */
public final class NatsServerCheck {

  /** How serious a finding is. */
  public enum Severity {
    /** A property that is as cfn wants it. */
    OK,
    /** Works, with a weaker guarantee than production needs. */
    WARNING,
    /** cfn cannot run its reliable transport on this server. */
    ERROR
  }

  /** One finding: its severity and a sentence (with the fix when it is not OK). */
  public record Finding(Severity severity, String text) {}

  /** What the check found. */
  public record Report(String version, List<Finding> findings) {
    /** The most serious severity among the findings. */
    public Severity worst() {
      Severity worst = Severity.OK;
      for (Finding f : findings) {
        if (f.severity().compareTo(worst) > 0) {
          worst = f.severity();
        }
      }
      return worst;
    }
  }

  private final HttpClient http;
  private final URI monitor;
  private final Duration timeout;

  /**
   * A check of the server whose monitoring endpoint is {@code monitorUrl} (such as {@code
   * http://127.0.0.1:8222}).
   *
   * @throws IllegalArgumentException when the URL is not an http(s) URL with a host
   */
  public NatsServerCheck(String monitorUrl, Duration timeout) {
    this.monitor = monitorUri(monitorUrl);
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  /** Parses and validates a monitoring URL; the message names the fix. */
  public static URI monitorUri(String url) {
    URI uri;
    try {
      uri = URI.create(url == null ? "" : url.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "NATS monitoring URL '" + url + "' is not a URL (fix: give e.g. http://127.0.0.1:8222)",
          e);
    }
    if (uri.getScheme() == null
        || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
        || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "NATS monitoring URL '"
              + url
              + "' must be http(s)://HOST:PORT, the server's 'http' port (fix: give e.g."
              + " http://127.0.0.1:8222, not the nats:// client URL)");
    }
    return uri;
  }

  /**
   * Reads the server and reports on it and on stream {@code stream} (null to skip the stream).
   *
   * @throws IOException when the monitoring endpoint cannot be read
   */
  public Report run(String stream) throws IOException, InterruptedException {
    JsonValue varz = get("/varz");
    List<Finding> findings = new ArrayList<>();
    String version = string(varz, "version");
    String server = string(varz, "server_name");
    findings.addAll(versionFindings(version, server));
    JsonValue jetstream = field(varz, "jetstream");
    JsonValue config = jetstream == null ? null : field(jetstream, "config");
    if (config == null || field(config, "store_dir") == null) {
      findings.add(
          new Finding(
              Severity.ERROR,
              "JetStream is off on "
                  + server
                  + " (fix: add a 'jetstream { store_dir: ... }' block to its config)"));
      return new Report(version, findings);
    }
    findings.add(syncFinding(version, config));
    JsonValue cluster = field(varz, "cluster");
    String clusterName = cluster == null ? null : string(cluster, "name");
    if (clusterName == null || clusterName.isEmpty()) {
      findings.add(
          new Finding(
              Severity.WARNING,
              "server "
                  + server
                  + " is not in a cluster: streams can only be R1 (fix: run 3 servers with a"
                  + " 'cluster' block and routes to each other)"));
    } else {
      findings.add(new Finding(Severity.OK, "server " + server + " is in cluster " + clusterName));
    }
    if (stream != null) {
      findings.add(streamFinding(stream));
    }
    return new Report(version, findings);
  }

  static List<Finding> versionFindings(String version, String server) {
    int[] v = parseVersion(version);
    if (v == null) {
      return List.of(
          new Finding(
              Severity.WARNING,
              "server " + server + " reports an unreadable version '" + version + "'"));
    }
    if (v[0] < 2 || (v[0] == 2 && v[1] < 10)) {
      return List.of(
          new Finding(
              Severity.WARNING,
              "nats-server "
                  + version
                  + " is older than 2.10: it cannot set sync_interval and fsyncs every 2 minutes,"
                  + " so acknowledged messages survive a process kill but not a power loss (fix:"
                  + " upgrade to 2.10 or later and set 'jetstream { sync_interval: always }')"));
    }
    return List.of(new Finding(Severity.OK, "nats-server " + version));
  }

  static Finding syncFinding(String version, JsonValue config) {
    JsonValue always = field(config, "sync_always");
    if (always != null && Boolean.TRUE.equals(always.bool)) {
      return new Finding(Severity.OK, "JetStream fsyncs every write (sync_interval: always)");
    }
    int[] v = parseVersion(version);
    if (v != null && (v[0] < 2 || (v[0] == 2 && v[1] < 10))) {
      return new Finding(
          Severity.WARNING,
          "JetStream file store fsyncs every 2 minutes (not configurable before 2.10)");
    }
    JsonValue interval = field(config, "sync_interval");
    String every =
        interval == null || interval.number == null
            ? "2m (the default)"
            : Duration.ofNanos(interval.number.longValue()).toString();
    return new Finding(
        Severity.WARNING,
        "JetStream fsyncs every "
            + every
            + ": a power loss can lose acknowledged messages (fix: set 'jetstream {"
            + " sync_interval: always }')");
  }

  private Finding streamFinding(String stream) throws IOException, InterruptedException {
    JsonValue jsz = get("/jsz?accounts=true&streams=true&config=true");
    JsonValue accounts = field(jsz, "account_details");
    if (accounts != null && accounts.array != null) {
      for (JsonValue account : accounts.array) {
        JsonValue streams = field(account, "stream_detail");
        if (streams == null || streams.array == null) {
          continue;
        }
        for (JsonValue s : streams.array) {
          if (stream.equals(string(s, "name"))) {
            return describeStream(stream, field(s, "config"));
          }
        }
      }
    }
    return new Finding(
        Severity.OK, "stream " + stream + " does not exist yet (cfn creates it, R3, at start)");
  }

  static Finding describeStream(String stream, JsonValue config) {
    if (config == null) {
      return new Finding(Severity.WARNING, "stream " + stream + " reports no configuration");
    }
    JsonValue replicasValue = field(config, "num_replicas");
    int replicas =
        replicasValue == null || replicasValue.number == null ? 1 : replicasValue.number.intValue();
    String storage = string(config, "storage");
    String retention = string(config, "retention");
    if (!"workqueue".equals(retention)) {
      return new Finding(
          Severity.ERROR,
          "stream "
              + stream
              + " has retention '"
              + retention
              + "', not workqueue (fix: delete it and let cfn create it)");
    }
    if ("memory".equals(storage)) {
      return new Finding(
          Severity.WARNING,
          "stream " + stream + " is held in memory (fix: recreate it with file storage)");
    }
    if (replicas < 3) {
      return new Finding(
          Severity.WARNING,
          "stream "
              + stream
              + " is R"
              + replicas
              + ": a server's loss loses the messages it holds (fix: 'nats stream edit "
              + stream
              + " --replicas 3' on a 3-server cluster)");
    }
    return new Finding(Severity.OK, "stream " + stream + " is R" + replicas + ", file storage");
  }

  /**
   * Connects to {@code natsUrl} as a client and reports whether JetStream answers and how stream
   * {@code stream} is replicated right now (its replicas and whether each is current). Works where
   * the monitoring port is not reachable; the URL's credentials, if any, are used and never
   * printed.
   *
   * @throws IllegalArgumentException when the URL is not a {@code nats://} or {@code tls://} URL
   * @throws IOException when the server cannot be reached
   */
  public static List<Finding> throughClient(String natsUrl, String stream, Duration timeout)
      throws IOException, InterruptedException {
    URI uri = clientUri(natsUrl);
    String where = uri.getHost() + ":" + (uri.getPort() < 0 ? 4222 : uri.getPort());
    Options options =
        new Options.Builder()
            .server(natsUrl.strip())
            .connectionTimeout(timeout)
            .noReconnect()
            .maxReconnects(0)
            .errorListener(new ErrorListener() {}) // the failure is reported once, below
            .build();
    List<Finding> findings = new ArrayList<>();
    try (Connection connection = Nats.connect(options)) {
      findings.add(new Finding(Severity.OK, "connected to " + where));
      findings.addAll(
          versionFindings(
              connection.getServerInfo().getVersion(), connection.getServerInfo().getServerName()));
      JetStreamManagement jsm;
      try {
        jsm =
            connection.jetStreamManagement(
                JetStreamOptions.builder().requestTimeout(timeout).build());
        jsm.getAccountStatistics();
      } catch (JetStreamApiException | IOException e) {
        findings.add(
            new Finding(
                Severity.ERROR,
                "JetStream does not answer at "
                    + where
                    + ": "
                    + e.getMessage()
                    + " (fix: enable JetStream on the server and for this account)"));
        return findings;
      }
      StreamInfo info;
      try {
        info = jsm.getStreamInfo(stream);
      } catch (JetStreamApiException e) {
        if (e.getErrorCode() == 404) {
          findings.add(
              new Finding(
                  Severity.OK,
                  "stream " + stream + " does not exist yet (cfn creates it, R3, at start)"));
          return findings;
        }
        throw new IOException("stream " + stream + ": " + e.getMessage(), e);
      }
      StreamConfiguration config = info.getConfiguration();
      JsonValue asJson = JsonParser.parseUnchecked(config.toJson());
      findings.add(describeStream(stream, asJson));
      ClusterInfo cluster = info.getClusterInfo();
      List<io.nats.client.api.Replica> replicas = cluster == null ? null : cluster.getReplicas();
      if (replicas != null) {
        long behind = replicas.stream().filter(r -> !r.isCurrent() || r.isOffline()).count();
        if (behind > 0) {
          findings.add(
              new Finding(
                  Severity.WARNING,
                  "stream "
                      + stream
                      + " has "
                      + behind
                      + " of "
                      + replicas.size()
                      + " followers offline or behind its leader "
                      + cluster.getLeader()
                      + " (fix: bring the servers back; until then a further loss can lose"
                      + " messages)"));
        }
      }
    } catch (IOException e) {
      throw new IOException("cannot reach NATS at " + where + ": " + e.getMessage(), e);
    }
    return findings;
  }

  /** Parses and validates a client URL; the message names the fix. */
  public static URI clientUri(String url) {
    URI uri;
    try {
      uri = URI.create(url == null ? "" : url.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "NATS URL is not a URL (fix: give e.g. nats://127.0.0.1:4222)", e);
    }
    if (uri.getScheme() == null
        || !(uri.getScheme().equals("nats") || uri.getScheme().equals("tls"))
        || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "NATS URL must be nats://HOST:PORT or tls://HOST:PORT (fix: give e.g."
              + " nats://127.0.0.1:4222; the monitoring URL goes to --nats-monitor)");
    }
    return uri;
  }

  /** Major, minor, patch of "2.9.10" or "2.10.0-beta.1"; null when unreadable. */
  static int[] parseVersion(String version) {
    if (version == null) {
      return null;
    }
    String[] parts = version.replaceFirst("^v", "").split("[.-]");
    if (parts.length < 2) {
      return null;
    }
    try {
      return new int[] {
        Integer.parseInt(parts[0]),
        Integer.parseInt(parts[1]),
        parts.length > 2 && parts[2].matches("\\d+") ? Integer.parseInt(parts[2]) : 0
      };
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private JsonValue get(String path) throws IOException, InterruptedException {
    URI uri = monitor.resolve(path);
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(
          uri
              + " answered HTTP "
              + response.statusCode()
              + " (fix: point at the server's 'http' monitoring port)");
    }
    try {
      return JsonParser.parse(response.body());
    } catch (JsonParseException e) {
      throw new IOException(uri + " did not answer JSON: " + e.getMessage(), e);
    }
  }

  private static JsonValue field(JsonValue object, String name) {
    Map<String, JsonValue> map = object == null ? null : object.map;
    return map == null ? null : map.get(name);
  }

  private static String string(JsonValue object, String name) {
    JsonValue v = field(object, name);
    return v == null ? null : v.string;
  }
}
