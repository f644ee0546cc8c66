package dev.cfn.certify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.server.tls.ClientIdentity;
import dev.cfn.store.audit.AuditEntry;
import dev.cfn.store.audit.AuditLog;
import dev.cfn.store.audit.AuditReport;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.testkit.file.FileDamage;
import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Check 7: security compliance, by active probes against a real node served as {@code cfn serve}
 * serves it, in a JVM of its own ({@link ServeNode}). The routes come from the node's own {@code
 * /openapi.json} (each with the least role it declares), never from a list kept here, so a route
 * added to the server is probed the day it lands. Each probe is listed in the report; compliance =
 * probes passed / probes run.
 *
 * <ul>
 *   <li><b>authentication</b>: every route that is not {@code /health/*} refuses (401) a call
 *       without a token, with an unknown token, an expired one and a revoked one; only {@code
 *       /health/*} is declared open.
 *   <li><b>authorization</b>: the role × route matrix: each of the four roles on each route; a role
 *       below the route's gets 403, one at or above it gets past authorization (neither 401 nor
 *       403, nor a 5xx); a token scoped to another agent type is refused, one scoped to it
 *       accepted.
 *   <li><b>transport</b>: TLS 1.3 with the node's certificate is served; a TLS 1.2 handshake fails;
 *       a plain-HTTP request gets no HTTP answer.
 *   <li><b>mutual TLS</b>: on a second node served with client certificates ({@code cfn serve
 *       --client-certs}): a self-signed client certificate no one trusted and a revoked one are
 *       refused (401); a trusted one is admitted as its principal, without a token, and refused
 *       (403) on a route above its role.
 *   <li><b>encryption at rest</b>: a random canary written through the API (a memory value and a
 *       RELIABLE message) appears in no file of the check's folder (the node's home, {@code .cfn}
 *       and all else it writes there; its temporary folder, which the check gives its JVM as {@code
 *       java.io.tmpdir}, {@code TMPDIR} and {@code SQLITE_TMPDIR}; and the node's log), while the
 *       node runs and after it stopped; a file that cannot be read fails the probe, named, rather
 *       than counting as searched. A keyring is created in {@code .cfn/keys} first when none is
 *       configured, so the stores encrypt whenever they can; a store that writes plaintext fails
 *       this probe.
 *   <li><b>audit</b>: the node's audit log verifies, holds the refusals and privileged actions the
 *       probes caused, and a copy with one byte flipped is reported damaged.
 *   <li><b>input</b>: on every route with a body: malformed JSON, a non-object, a wrong media type,
 *       nesting 100,000 deep, a body over the size limit, invalid UTF-8, a huge number: each
 *       refused with a 4xx, never accepted, never a 5xx; and an over-long path, an encoded
 *       traversal and a NUL byte in a path, and an over-long query, none answered with a 5xx.
 * </ul>
 */
final class SecurityCheck implements Check {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration CALL = Duration.ofSeconds(30);

  /**
   * The node under test: how it is set up, what the probes talk to, and how its audit log is
   * verified. The real one is {@link #REAL}; the honesty tests break one part.
   *
   * @param options more of {@link ServeNode}'s arguments, changing the node's set-up (none for the
   *     real node)
   * @param front the client the probes use, given the node (its own client for the real node)
   * @param auditVerifier verifies the audit log under a {@code .cfn} folder
   */
  record Subject(
      List<String> options,
      Function<ServeNode.Served, ApiClient> front,
      Function<Path, AuditReport> auditVerifier) {}

  /** The node as {@code cfn serve} runs it. */
  static final Subject REAL =
      new Subject(List.of(), n -> n.client, dir -> AuditLog.verify(dir, null));

  /** The node's home, temporary folder and log (its standard error) in the check's folder. */
  static final String HOME = "node";

  static final String TEMP = "node-tmp";
  static final String LOG = "served-node.log";

  private final Subject subject;

  SecurityCheck(Subject subject) {
    this.subject = subject;
  }

  @Override
  public CheckId id() {
    return CheckId.SECURITY;
  }

  @Override
  public String method(Context ctx) {
    return "Active probes against a node served as `cfn serve` serves it (TLS 1.3, tokens, audit"
        + " log): every route of its /openapi.json without a token and with unknown, expired and"
        + " revoked tokens (401); the role x route matrix from the roles it declares (403 below,"
        + " admitted at or above) and scopes; TLS 1.2 and plain HTTP refused; on a node serving"
        + " client certificates, an untrusted and a revoked one refused, a trusted one admitted"
        + " within its role; a random canary"
        + " written through the API searched in every file of the node's home, temporary folder and"
        + " log (the node runs in a JVM of its own whose java.io.tmpdir, TMPDIR and SQLITE_TMPDIR"
        + " are a folder of the check's; an unreadable file fails the probe; a keyring is configured"
        + " first); the audit log verified, holding the probes' refusals, and a tampered copy"
        + " detected; malformed, non-object, wrong-type, deeply nested, oversized, invalid-UTF-8"
        + " bodies on every route with a body refused with a 4xx, odd paths and queries never a"
        + " 5xx. Compliance = probes passed / probes run.";
  }

  /** One probe and what it found. */
  record Probe(String group, String name, boolean passed, String detail) {
    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("group", group);
      m.put("probe", name);
      m.put("passed", passed);
      m.put("detail", detail);
      return m;
    }
  }

  /** A route as the node's API document declares it. */
  record Route(String method, String path, Role role, boolean body) {
    String label() {
      return method + " " + path;
    }

    /** The path with each parameter filled in. */
    String concrete() {
      return path.replaceAll("\\{[A-Za-z]+}", "certify-probe");
    }
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Path home = Files.createDirectories(ctx.work().resolve(HOME));
    Path keys = home.resolve(".cfn").resolve("keys");
    boolean keyringBefore = Keyring.configured(keys, System.getenv());
    if (!keyringBefore) {
      Keyring.init(keys);
    }
    List<Probe> probes = new ArrayList<>();
    String canary = "cfn-canary-" + HexFormat.of().formatHex(bytes(16));
    List<Route> routes;
    Path temp = ctx.work().resolve(TEMP);
    ctx.step(id(), "starting the node in a JVM of its own");
    try (ServeNode.Served node =
        ServeNode.serve(home, temp, ctx.work().resolve(LOG), subject.options())) {
      ApiClient api = subject.front().apply(node);
      ctx.step(id(), "node at " + api.url() + "; reading its routes");
      String admin = node.token(Role.ADMIN);
      routes = routes(api, admin, probes);
      ctx.step(id(), routes.size() + " routes; authentication and authorization probes");
      authentication(node, api, routes, probes);
      authorization(node, api, routes, probes);
      ctx.step(id(), "transport, input and encryption-at-rest probes");
      transport(api, probes);
      input(api, node.token(Role.ADMIN), routes, probes);
      writeCanary(api, node.token(Role.ADMIN), canary, probes);
      probes.add(canaryProbe(ctx.work(), canary, "while the node runs", Files::readAllBytes));
    }
    probes.add(canaryProbe(ctx.work(), canary, "after the node stopped", Files::readAllBytes));
    ctx.step(id(), "mutual TLS probes");
    mutualTls(ctx.work(), routes, probes);
    ctx.step(id(), "audit log probes");
    audit(home.resolve(".cfn"), ctx.work(), probes);

    long passed = probes.stream().filter(Probe::passed).count();
    double compliance = probes.isEmpty() ? 0 : 100.0 * passed / probes.size();
    Map<String, Map<String, Long>> byGroup = new LinkedHashMap<>();
    for (Probe p : probes) {
      Map<String, Long> g = byGroup.computeIfAbsent(p.group(), k -> new LinkedHashMap<>());
      g.merge("run", 1L, Long::sum);
      g.merge("passed", p.passed() ? 1L : 0L, Long::sum);
    }
    List<Probe> failed = probes.stream().filter(p -> !p.passed()).toList();
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("probesRun", probes.size());
    f.put("probesPassed", passed);
    f.put("routes", routes.stream().map(Route::label).toList());
    f.put("keyringConfigured", keyringBefore ? "yes (before the check)" : "created by the check");
    f.put("canarySearched", CANARY_FOLDERS);
    f.put("groups", byGroup);
    f.put("probes", probes.stream().map(Probe::asMap).toList());
    double target = ctx.target(id());
    String verdict =
        passed
            + " of "
            + probes.size()
            + " probes passed ("
            + Figures.format(compliance)
            + " %) against "
            + id().describeTarget(target)
            + (failed.isEmpty()
                ? ""
                : "; failed: "
                    + failed.stream()
                        .limit(5)
                        .map(p -> p.name() + " (" + p.detail() + ")")
                        .reduce((a, b) -> a + "; " + b)
                        .orElse("")
                    + (failed.size() > 5 ? "; and " + (failed.size() - 5) + " more" : ""));
    return CheckResult.measured(id(), compliance, target, true, method(ctx), verdict, f);
  }

  private static List<Route> routes(ApiClient api, String admin, List<Probe> probes)
      throws IOException {
    ApiClient.Answer doc = api.get("/openapi.json", admin, CALL);
    List<Route> routes = new ArrayList<>();
    if (doc.status() != 200) {
      probes.add(new Probe("routes", "/openapi.json lists the routes", false, doc.toString()));
      return routes;
    }
    JsonNode paths = JSON.readTree(doc.body()).path("paths");
    for (Iterator<Map.Entry<String, JsonNode>> it = paths.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      for (Iterator<Map.Entry<String, JsonNode>> ops = p.getValue().fields(); ops.hasNext(); ) {
        Map.Entry<String, JsonNode> op = ops.next();
        JsonNode o = op.getValue();
        String role = o.path("x-cfn-role").asText("");
        boolean open = o.has("security") && o.path("security").isEmpty();
        routes.add(
            new Route(
                op.getKey().toUpperCase(Locale.ROOT),
                p.getKey(),
                open || role.isEmpty() ? null : Role.parse(role),
                o.has("requestBody")));
      }
    }
    probes.add(
        new Probe(
            "routes",
            "/openapi.json lists the routes",
            !routes.isEmpty(),
            routes.size() + " routes"));
    return routes;
  }

  private static void authentication(
      ServeNode.Served node, ApiClient api, List<Route> routes, List<Probe> probes) {
    String unknown = "cfn_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
    String expired = node.expiredToken(Role.ADMIN);
    String revoked = node.revokedToken(Role.ADMIN);
    for (Route r : routes) {
      if (r.role() == null) {
        boolean health = r.path().startsWith("/health/");
        probes.add(
            new Probe(
                "authentication",
                r.label() + " is open only because it is a health probe",
                health,
                health ? "open by design" : "declared open to anyone"));
        continue;
      }
      Map<String, String> tokens = new LinkedHashMap<>();
      tokens.put("no token", null);
      tokens.put("an unknown token", unknown);
      tokens.put("an expired token", expired);
      tokens.put("a revoked token", revoked);
      tokens.put("a non-bearer credential", " Basic Y2ZuOmNmbg==");
      for (Map.Entry<String, String> t : tokens.entrySet()) {
        ApiClient.Answer a = send(api, r, t.getValue(), r.body() ? "{}" : null);
        probes.add(
            new Probe(
                "authentication",
                r.label() + " with " + t.getKey() + " is refused (401)",
                a.status() == 401,
                a.toString()));
      }
    }
  }

  private static void authorization(
      ServeNode.Served node, ApiClient api, List<Route> routes, List<Probe> probes) {
    Map<Role, String> tokens = new LinkedHashMap<>();
    for (Role role : Role.values()) {
      tokens.put(role, node.token(role));
    }
    for (Route r : routes) {
      if (r.role() == null) {
        continue;
      }
      for (Role role : Role.values()) {
        ApiClient.Answer a = send(api, r, tokens.get(role), r.body() ? "{}" : null);
        boolean allowed = role.includes(r.role());
        boolean ok =
            allowed
                ? a.status() != 0 && a.status() != 401 && a.status() != 403 && !a.serverError()
                : a.status() == 403;
        probes.add(
            new Probe(
                "authorization",
                r.label()
                    + " as "
                    + role.label()
                    + (allowed ? " is admitted" : " is forbidden (403)")
                    + " (least role "
                    + r.role().label()
                    + ")",
                ok,
                a.toString()));
      }
    }
    String send = "{\"to\":\"" + ServedNode.SINK + "/scoped\",\"payload\":{\"probe\":\"scope\"}}";
    ApiClient.Answer other =
        api.json(
            "POST", "/v1/messages/send", node.token(Role.ADMIN, "agent:certify-other"), send, CALL);
    probes.add(
        new Probe(
            "authorization",
            "a token scoped to agent:certify-other cannot send to " + ServedNode.SINK,
            other.status() == 403,
            other.toString()));
    ApiClient.Answer mine =
        api.json(
            "POST",
            "/v1/messages/send",
            node.token(Role.AGENT, "agent:" + ServedNode.SINK),
            send,
            CALL);
    probes.add(
        new Probe(
            "authorization",
            "a token scoped to agent:" + ServedNode.SINK + " can send to it",
            mine.ok(),
            mine.toString()));
  }

  private static ApiClient.Answer send(ApiClient api, Route r, String token, String body) {
    return body == null
        ? api.call(r.method(), r.concrete(), token, null, null, CALL)
        : api.json(r.method(), r.concrete(), token, body, CALL);
  }

  private static void transport(ApiClient api, List<Probe> probes) {
    URI u = URI.create(api.url());
    boolean https = "https".equals(u.getScheme()) && api.trust() != null;
    ApiClient.Answer live = api.get("/health/live", null, CALL);
    probes.add(
        new Probe(
            "transport",
            "TLS 1.3 with the node's certificate is served",
            https && live.status() == 200,
            (https ? "https, " : "plain http, ") + live));
    String tls12;
    boolean refused;
    if (!https) {
      refused = false;
      tls12 = "the node serves no TLS at all";
    } else {
      try (Socket raw = new Socket()) {
        raw.connect(new InetSocketAddress(u.getHost(), u.getPort()), 10_000);
        SSLSocket s =
            (SSLSocket)
                ApiClient.tls("TLSv1.2", api.trust())
                    .getSocketFactory()
                    .createSocket(raw, u.getHost(), u.getPort(), true);
        s.setEnabledProtocols(new String[] {"TLSv1.2"});
        s.setSoTimeout(10_000);
        s.startHandshake();
        refused = false;
        tls12 = "the TLS 1.2 handshake succeeded";
        s.close();
      } catch (SSLException e) {
        refused = true;
        tls12 = "handshake refused: " + e.getMessage();
      } catch (IOException e) {
        refused = true;
        tls12 = "connection closed: " + e.getMessage();
      }
    }
    probes.add(new Probe("transport", "a TLS 1.2 client is refused", refused, tls12));
    String answer;
    try (Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress(u.getHost(), u.getPort()), 10_000);
      plain.setSoTimeout(10_000);
      OutputStream out = plain.getOutputStream();
      out.write(
          "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = plain.getInputStream();
      answer = new String(in.readNBytes(4096), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      answer = "";
    }
    boolean http = answer.startsWith("HTTP/1.1 2") || answer.startsWith("HTTP/1.0 2");
    probes.add(
        new Probe(
            "transport",
            "a plain-HTTP request gets no HTTP answer",
            !http,
            http ? "answered: " + answer.lines().findFirst().orElse("") : "no HTTP answer"));
  }

  /**
   * The client-certificate probes, on a node of its own in {@code home} served with client
   * certificates asked for: an untrusted (self-signed, never registered) certificate and a revoked
   * one get 401, a trusted viewer certificate is admitted on a viewer route without a token and
   * gets 403 on a route above its role.
   */
  private void mutualTls(Path work, List<Route> routes, List<Probe> probes)
      throws IOException, InterruptedException {
    Path home = Files.createDirectories(work.resolve("mtls-node"));
    Route viewer =
        routes.stream()
            .filter(r -> r.role() == Role.VIEWER && r.method().equals("GET") && !r.body())
            .filter(r -> !r.path().contains("{") && !r.path().equals("/v1/events"))
            .findFirst()
            .orElse(new Route("GET", "/v1/agents", Role.VIEWER, false));
    Route above =
        routes.stream()
            .filter(r -> r.role() != null && r.role().compareTo(Role.OPERATOR) >= 0)
            .filter(r -> r.method().equals("GET") && !r.body())
            .findFirst()
            .orElse(new Route("GET", "/v1/store/check", Role.OPERATOR, false));
    String[] names = {
      "an untrusted (self-signed) client certificate is refused",
      "a revoked client certificate is refused",
      "a trusted client certificate is admitted without a token",
      "a trusted client certificate is refused a route above its role"
    };
    ServeNode.Served node;
    List<String> options = new ArrayList<>(List.of("--client-certs"));
    options.addAll(subject.options());
    try {
      node =
          ServeNode.serve(
              home, work.resolve("mtls-node-tmp"), work.resolve("mtls-node.log"), options);
    } catch (ChildJvm.Failure e) {
      for (String n : names) {
        probes.add(
            new Probe(
                "mutual TLS",
                n,
                false,
                "the node cannot serve client certificates: " + e.problem()));
      }
      return;
    }
    try (node) {
      Instant now = Instant.now();
      ClientIdentity stranger =
          ClientIdentity.generate("certify-stranger", now.minusSeconds(300), now.plusSeconds(3600));
      ClientIdentity revoked =
          ClientIdentity.generate("certify-revoked", now.minusSeconds(300), now.plusSeconds(3600));
      ClientIdentity trusted =
          ClientIdentity.generate("certify-viewer", now.minusSeconds(300), now.plusSeconds(3600));
      try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
        String id =
            store
                .trustCertificate(
                    revoked.certificate(),
                    Role.ADMIN,
                    List.of(Scope.ALL),
                    Duration.ofHours(1),
                    "",
                    ServedNode.ACTOR,
                    "cert.trust")
                .principal()
                .id();
        store.revoke(id, ServedNode.ACTOR);
        store.trustCertificate(
            trusted.certificate(),
            Role.VIEWER,
            List.of(Scope.ALL),
            Duration.ofHours(1),
            "",
            ServedNode.ACTOR,
            "cert.trust");
      }
      KeyStore trust = node.client.trust();
      int[] statuses = {
        status(node, trust, stranger, viewer),
        status(node, trust, revoked, viewer),
        status(node, trust, trusted, viewer),
        status(node, trust, trusted, above)
      };
      int[] expected = {401, 401, 200, 403};
      for (int i = 0; i < names.length; i++) {
        probes.add(
            new Probe(
                "mutual TLS",
                names[i],
                statuses[i] == expected[i],
                (i < 3 ? viewer.label() : above.label())
                    + ": "
                    + (statuses[i] < 0 ? "no HTTP answer" : "status " + statuses[i])
                    + " (expected "
                    + expected[i]
                    + ")"));
      }
    }
  }

  /** The status of {@code route} called with {@code identity}'s certificate and no token. */
  private static int status(
      ServeNode.Served node, KeyStore trust, ClientIdentity identity, Route route) {
    if (trust == null) {
      return -1; // no TLS: no certificate can be presented
    }
    try {
      char[] password = new char[24]; // protects an in-memory key store only
      for (int i = 0; i < password.length; i++) {
        password[i] = (char) ('a' + RANDOM.nextInt(26));
      }
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
      kmf.init(identity.keyStore(password), password);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext tls = SSLContext.getInstance("TLSv1.3");
      tls.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      SSLParameters params = new SSLParameters();
      params.setProtocols(new String[] {"TLSv1.3"});
      HttpClient http =
          HttpClient.newBuilder()
              .sslContext(tls)
              .sslParameters(params)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(node.client.url() + route.concrete()))
                  .timeout(CALL)
                  .method(route.method(), HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode();
    } catch (IOException | GeneralSecurityException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static void input(ApiClient api, String admin, List<Route> routes, List<Probe> probes) {
    byte[] nested = "[".repeat(100_000).getBytes(StandardCharsets.US_ASCII);
    byte[] oversized = new byte[CfnServer.DEFAULT_MAX_BODY_BYTES * 2 + 1];
    java.util.Arrays.fill(oversized, (byte) ' ');
    oversized[0] = '{';
    oversized[oversized.length - 1] = '}';
    byte[] badUtf8 = {'{', '"', 'v', 'a', 'l', 'u', 'e', '"', ':', '"', (byte) 0xC3, '(', '"', '}'};
    Map<String, byte[]> bodies = new LinkedHashMap<>();
    bodies.put("malformed JSON", "{\"to\": ".getBytes(StandardCharsets.US_ASCII));
    bodies.put("a JSON array instead of an object", "[1,2,3]".getBytes(StandardCharsets.US_ASCII));
    bodies.put("JSON nested 100,000 deep", nested);
    bodies.put("a body over twice the size limit (413)", oversized);
    bodies.put("invalid UTF-8", badUtf8);
    bodies.put(
        "a number with a billion-digit exponent",
        "{\"value\": 1e999999999}".getBytes(StandardCharsets.US_ASCII));
    for (Route r : routes) {
      if (!r.body()) {
        continue;
      }
      for (Map.Entry<String, byte[]> b : bodies.entrySet()) {
        ApiClient.Answer a =
            api.call(r.method(), r.concrete(), admin, "application/json", b.getValue(), CALL);
        boolean ok;
        if (b.getValue() == oversized) {
          // refused as too large (a server may also close the connection after its answer)
          ok =
              a.status() == 413
                  || a.status() == 0 && a.error() != null && !a.error().contains("imeout");
        } else {
          ok = a.status() >= 400 && a.status() < 500;
        }
        probes.add(
            new Probe(
                "input",
                r.label() + " with " + b.getKey() + " is refused with a 4xx",
                ok,
                a.toString()));
      }
      ApiClient.Answer wrongType =
          api.call(
              r.method(),
              r.concrete(),
              admin,
              "text/plain",
              "{}".getBytes(StandardCharsets.US_ASCII),
              CALL);
      probes.add(
          new Probe(
              "input",
              r.label() + " with a text/plain body is refused with a 4xx",
              wrongType.status() >= 400 && wrongType.status() < 500,
              wrongType.toString()));
    }
    Map<String, String> odd = new LinkedHashMap<>();
    odd.put("an over-long path (16 KiB)", "/v1/agents/" + "a".repeat(16_384) + "/k");
    odd.put("an encoded path traversal", "/v1/memory/..%2F..%2F..%2Fetc/passwd");
    odd.put("a NUL byte in a path", "/v1/agents/a%00b/k");
    odd.put("an over-long query (64 KiB)", "/v1/memory?q=" + "x".repeat(65_536));
    odd.put("an unknown route", "/v1/certify-no-such-route");
    for (Map.Entry<String, String> o : odd.entrySet()) {
      ApiClient.Answer a = api.get(o.getValue(), admin, CALL);
      probes.add(
          new Probe(
              "input",
              "GET with " + o.getKey() + " gets no 5xx",
              a.status() != 0 && !a.serverError(),
              a.toString()));
    }
  }

  private static void writeCanary(ApiClient api, String admin, String canary, List<Probe> probes) {
    ApiClient.Answer memory =
        api.json("PUT", "/v1/memory/certify/canary", admin, "{\"value\":\"" + canary + "\"}", CALL);
    ApiClient.Answer message =
        api.json(
            "POST",
            "/v1/messages/send",
            admin,
            "{\"to\":\""
                + ServedNode.SINK
                + "/canary\",\"payload\":{\"secret\":\""
                + canary
                + "\"},\"reliable\":true}",
            CALL);
    probes.add(
        new Probe(
            "encryption at rest",
            "the canary is written through the API (memory and a RELIABLE message)",
            memory.ok() && message.ok(),
            "memory " + memory + ", message " + message));
  }

  /** Reads a file's bytes: {@link Files#readAllBytes}, or a failing reader in the tests. */
  interface FileBytes {
    byte[] read(Path file) throws IOException;
  }

  /**
   * What a search for the canary found under a folder.
   *
   * @param searched files read and searched
   * @param found the files holding the canary, relative to the folder
   * @param unreadable the files (or folders) that could not be read, relative to the folder: not
   *     searched, so the probe cannot say the canary is not in them
   */
  record CanarySearch(int searched, List<String> found, List<String> unreadable) {
    boolean clean() {
      return found.isEmpty() && unreadable.isEmpty();
    }
  }

  /**
   * Searches every file under {@code root} for {@code needle}. A file removed while the search runs
   * (a WAL checkpointed away) is gone, not unreadable; any other failure to read a file or folder
   * lists it as unreadable.
   */
  static CanarySearch searchCanary(Path root, byte[] needle, FileBytes reader) throws IOException {
    List<String> found = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    int[] searched = {0};
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path p, BasicFileAttributes attrs) {
            if (!attrs.isRegularFile()) {
              return FileVisitResult.CONTINUE;
            }
            byte[] content;
            try {
              content = reader.read(p);
            } catch (NoSuchFileException e) {
              return FileVisitResult.CONTINUE; // removed meanwhile
            } catch (IOException e) {
              unreadable.add(root.relativize(p) + " (" + e.getClass().getSimpleName() + ")");
              return FileVisitResult.CONTINUE;
            }
            searched[0]++;
            if (FileDamage.indexOf(content, needle) >= 0) {
              found.add(root.relativize(p).toString());
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path p, IOException e) {
            if (!(e instanceof NoSuchFileException)) {
              unreadable.add(root.relativize(p) + " (" + e.getClass().getSimpleName() + ")");
            }
            return FileVisitResult.CONTINUE;
          }
        });
    return new CanarySearch(searched[0], found, unreadable);
  }

  /** What the canary probe searches, in the check's folder: see {@link #canaryProbe}. */
  static final List<String> CANARY_FOLDERS =
      List.of(
          HOME + "/ (the node's home: .cfn and all else it writes there)",
          TEMP + "/ (its temporary folder: java.io.tmpdir, TMPDIR, SQLITE_TMPDIR)",
          LOG + " (its standard error, where it logs)",
          "every other file of the check's folder");

  /**
   * The canary probe over {@code work}: the check's folder, which holds the node's home (its {@code
   * .cfn} and anything else it writes there), its temporary folder and its log: the node runs in a
   * JVM of its own whose temporary folder is {@value #TEMP} here, so nothing it writes to a
   * temporary file escapes the search.
   */
  static Probe canaryProbe(Path work, String canary, String when, FileBytes reader)
      throws IOException {
    CanarySearch s = searchCanary(work, canary.getBytes(StandardCharsets.UTF_8), reader);
    String where = "the node's home, temporary folder and log";
    StringBuilder detail = new StringBuilder();
    if (!s.found().isEmpty()) {
      detail.append("found in ").append(s.found()).append(" (the stores do not encrypt); ");
    }
    if (!s.unreadable().isEmpty()) {
      detail.append("could not read ").append(s.unreadable()).append(", so not searched; ");
    }
    detail.append(s.searched()).append(" files searched");
    return new Probe(
        "encryption at rest",
        "the plaintext canary is in no file of " + where + " " + when,
        s.clean(),
        detail.toString());
  }

  private void audit(Path cfn, Path work, List<Probe> probes) throws IOException {
    AuditReport clean = subject.auditVerifier().apply(cfn);
    probes.add(
        new Probe(
            "audit",
            "the audit log verifies",
            clean.ok(),
            clean.ok() ? clean.entries() + " entries intact" : clean.problem()));
    List<AuditEntry> tail = AuditLog.tail(cfn, 10_000);
    Map<String, Long> kinds = new LinkedHashMap<>();
    for (AuditEntry e : tail) {
      String kind = e.event().detail().getOrDefault("kind", "");
      kinds.merge(kind, 1L, Long::sum);
    }
    for (String kind :
        List.of("authentication_failure", "authorization_denial", "privileged_action")) {
      long n = kinds.getOrDefault(kind, 0L);
      probes.add(
          new Probe(
              "audit",
              "the audit log holds the probes' " + kind.replace('_', ' ') + " events",
              n > 0,
              n + " entries"));
    }
    Path copy = work.resolve("tampered").resolve(".cfn");
    Path from = cfn.resolve(AuditLog.FOLDER);
    Path to = Files.createDirectories(copy.resolve(AuditLog.FOLDER));
    try (Stream<Path> files = Files.list(from)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        Files.copy(p, to.resolve(String.valueOf(p.getFileName())));
      }
    }
    Path log = to.resolve(AuditLog.FILE);
    byte[] bytes = Files.readAllBytes(log);
    int at = bytes.length / 2;
    bytes[at] ^= 0x01;
    Files.write(log, bytes);
    AuditReport tampered = subject.auditVerifier().apply(copy);
    probes.add(
        new Probe(
            "audit",
            "a copy of the audit log with one byte flipped (offset " + at + ") is reported damaged",
            !tampered.ok(),
            tampered.ok() ? "verified as intact" : tampered.problem()));
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
