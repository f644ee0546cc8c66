package dev.cfn.bench;

import dev.cfn.core.AgentType;
import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * {@code cfn bench server}: the HTTP API of {@code cfn serve} under load, on loopback, through the
 * whole request path (TLS, bearer-token authentication, rate limiter, JSON Schema validation, the
 * runtime), with the plain-HTTP figure of the same server beside it in the same run.
 *
 * <p>Two nodes are started in this JVM over temporary homes: one with TLS 1.3 (its generated
 * self-signed certificate, pinned by the clients) and one with {@code --insecure-http}. Each has an
 * {@code echo} agent type that replies to requests and ignores one-way messages, and an agent token
 * whose per-token rate limit is raised out of the way (the default 50/s would measure the limiter).
 *
 * <p><b>Saturation.</b> {@code 1}, {@code 16} and {@code 256} clients, each a virtual thread with a
 * keep-alive connection of its own and an echo agent of its own ({@code echo/N}: the figure is the
 * server's, not one agent's mailbox), send back to back for the measuring window: an authenticated
 * {@code POST /v1/messages/send} (202), and a {@code POST /v1/messages/request} round trip through
 * the echo agent (200). Requests per second, and P50/P99 of each call's service time.
 *
 * <p><b>Fixed rate.</b> {@code send} and {@code request} at a fixed rate (1,000/s by default) over
 * 16 connections: the send time of call {@code i} is fixed in advance, and its latency is measured
 * from that intended time, so a stall of the server (or the client) counts against every call it
 * delays (corrected for coordinated omission). Recorded in an HdrHistogram.
 *
 * <p>The client is a minimal HTTP/1.1 client over a socket, so that the figure is the server's
 * rather than a heavyweight client's; the client shares the machine's cores with the server. Each
 * TLS connection completes its handshake before the clients are counted as connected, so the
 * windows measure requests on established connections.
 *
 * <p><b>Encryption at rest.</b> A best-effort send stores nothing, so its cost shows on a RELIABLE
 * send ({@code "reliable": true}: journaled before the 202), measured with 1, 16 and 256 clients on
 * the TLS node (its records plain) and, back to back, on a third TLS node whose home has a keyring
 * ({@code .cfn/keys}, as {@code cfn keys init} makes: each payload sealed with AES-256-GCM).
 */
final class ServerBench {
  static final int[] CLIENTS = {1, 16, 256};

  /** The operation whose cost encryption at rest changes: a RELIABLE send, journaled. */
  static final String RELIABLE_SEND = "send-reliable";

  static final int RATE_CONNECTIONS = 16;

  record Settings(Duration warmup, Duration measure, int rate, Duration rateMeasure) {
    static Settings quick() {
      return new Settings(
          Duration.ofSeconds(2), Duration.ofSeconds(3), 1000, Duration.ofSeconds(5));
    }

    static Settings full() {
      return new Settings(
          Duration.ofSeconds(5), Duration.ofSeconds(10), 1000, Duration.ofSeconds(20));
    }
  }

  private final Settings settings;
  private final PrintStream out;

  ServerBench(Settings settings, PrintStream out) {
    this.settings = settings;
    this.out = out;
  }

  Map<String, Object> run() throws Exception {
    Machine machine = Machine.current();
    out.println("cfn bench server: " + machine.describe());
    List<Map<String, Object>> saturation = new ArrayList<>();
    List<Map<String, Object>> paced = new ArrayList<>();
    Path root = Files.createTempDirectory("cfn-bench-server-");
    try (Target tls = Target.start(Files.createDirectory(root.resolve("tls")), true, false);
        Target plain = Target.start(Files.createDirectory(root.resolve("plain")), false, false);
        Target sealed = Target.start(Files.createDirectory(root.resolve("sealed")), true, true)) {
      List<Target> both = List.of(tls, plain);
      List<Target> atRest = List.of(tls, sealed);
      out.println("  warming up (JIT, connections) on the three nodes; not recorded");
      for (String op : List.of("send", "request")) {
        for (Target target : both) {
          saturate(target, op, 16);
        }
      }
      for (Target target : atRest) {
        saturate(target, RELIABLE_SEND, 16);
      }
      for (String op : List.of("send", "request")) {
        for (int clients : CLIENTS) {
          for (Target target : both) { // TLS and plain HTTP back to back, each time
            Map<String, Object> r = saturate(target, op, clients);
            saturation.add(r);
            out.printf(
                Locale.ROOT,
                "  %-10s %-8s %4d clients: %,10.0f req/s  P50 %8.1f us  P99 %9.1f us  errors"
                    + " %d%n",
                target.transport(),
                op,
                clients,
                (double) r.get("requestsPerSecond"),
                (double) r.get("p50Us"),
                (double) r.get("p99Us"),
                (long) r.get("errors"));
          }
        }
      }
      for (int clients : CLIENTS) {
        for (Target target : atRest) { // records plain and sealed back to back, each time
          Map<String, Object> r = saturate(target, RELIABLE_SEND, clients);
          saturation.add(r);
          out.printf(
              Locale.ROOT,
              "  %-10s %-13s %4d clients: %,10.0f req/s  P50 %8.1f us  P99 %9.1f us  errors %d"
                  + "  (encryption at rest %s)%n",
              target.transport(),
              RELIABLE_SEND,
              clients,
              (double) r.get("requestsPerSecond"),
              (double) r.get("p50Us"),
              (double) r.get("p99Us"),
              (long) r.get("errors"),
              r.get("encryptionAtRest"));
        }
      }
      for (String op : List.of("send", "request")) {
        for (Target target : both) {
          Map<String, Object> r = fixedRate(target, op);
          paced.add(r);
          out.printf(
              Locale.ROOT,
              "  %-10s %-8s at %,d/s (corrected): P50 %8.1f us  P99 %9.1f us  P99.9 %9.1f us"
                  + "  max %9.1f us  errors %d%n",
              target.transport(),
              op,
              settings.rate(),
              (double) r.get("p50Us"),
              (double) r.get("p99Us"),
              (double) r.get("p999Us"),
              (double) r.get("maxUs"),
              (long) r.get("errors"));
        }
      }
    } finally {
      BenchMain.deleteTree(root);
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("benchmark", "server");
    json.put("machine", machine.asMap());
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("warmupSeconds", settings.warmup().toSeconds());
    s.put("measureSeconds", settings.measure().toSeconds());
    s.put("rate", settings.rate());
    s.put("rateMeasureSeconds", settings.rateMeasure().toSeconds());
    s.put("rateConnections", RATE_CONNECTIONS);
    s.put("client", "HTTP/1.1 keep-alive, one connection per client, virtual threads");
    json.put("settings", s);
    json.put("saturation", saturation);
    json.put("fixedRate", paced);
    json.put("targets", targets(saturation, paced));
    return json;
  }

  private Map<String, Object> targets(
      List<Map<String, Object>> saturation, List<Map<String, Object>> paced) {
    double bestTlsSend =
        saturation.stream()
            .filter(r -> r.get("transport").equals("tls") && r.get("op").equals("send"))
            .mapToDouble(r -> (double) r.get("requestsPerSecond"))
            .max()
            .orElse(0);
    double tlsSendP99 =
        paced.stream()
            .filter(r -> r.get("transport").equals("tls") && r.get("op").equals("send"))
            .mapToDouble(r -> (double) r.get("p99Us"))
            .findFirst()
            .orElse(Double.NaN);
    Map<String, Object> t = new LinkedHashMap<>();
    Map<String, Object> sealedOverPlain = new LinkedHashMap<>();
    for (int clients : CLIENTS) {
      double off = reliableSends(saturation, clients, "off");
      double on = reliableSends(saturation, clients, "on");
      if (off > 0 && on > 0) {
        sealedOverPlain.put(String.valueOf(clients), on / off);
        out.printf(
            Locale.ROOT,
            "encryption at rest, RELIABLE sends over TLS with %d clients: %,.0f/s sealed against"
                + " %,.0f/s plain (%.2f)%n",
            clients,
            on,
            off,
            on / off);
      }
    }
    t.put("reliableSendsSealedOverPlainByClients", sealedOverPlain);
    t.put("authenticatedSendsPerSecondTls", bestTlsSend);
    t.put("sendsPerSecondTarget", 20_000);
    t.put("sendsPerSecondMet", bestTlsSend >= 20_000);
    t.put("p99UsAtRateTls", tlsSendP99);
    t.put("p99UsTarget", 5_000);
    t.put("p99Met", tlsSendP99 <= 5_000);
    out.printf(
        Locale.ROOT,
        "target: >= 20,000 authenticated sends/s over TLS: %,.0f (%s); P99 <= 5 ms at %,d/s:"
            + " %.2f ms (%s)%n",
        bestTlsSend,
        bestTlsSend >= 20_000 ? "met" : "NOT met",
        settings.rate(),
        tlsSendP99 / 1000,
        tlsSendP99 <= 5_000 ? "met" : "NOT met");
    return t;
  }

  /** The RELIABLE sends/s over TLS with {@code clients}, records sealed ("on") or not ("off"). */
  private static double reliableSends(
      List<Map<String, Object>> saturation, int clients, String encryption) {
    return saturation.stream()
        .filter(
            r ->
                r.get("op").equals(RELIABLE_SEND)
                    && r.get("clients").equals(clients)
                    && r.get("encryptionAtRest").equals(encryption))
        .mapToDouble(r -> (double) r.get("requestsPerSecond"))
        .findFirst()
        .orElse(0);
  }

  private Map<String, Object> saturate(Target target, String op, int clients) throws Exception {
    String transport = target.transport();
    Recorder recorder = new Recorder(3);
    AtomicBoolean measuring = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    int expected = op.equals("request") ? 200 : 202;
    List<Thread> threads = new ArrayList<>();
    CountDownLatch connected = new CountDownLatch(clients);
    List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < clients; i++) {
      byte[] request = target.request(op, i);
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (Connection c = target.connect()) {
                      connected.countDown();
                      while (!stop.get()) {
                        long t0 = System.nanoTime();
                        int status = c.exchange(request);
                        long t1 = System.nanoTime();
                        if (measuring.get()) {
                          recorder.recordValue(t1 - t0);
                          done.incrementAndGet();
                          if (status != expected) {
                            errors.incrementAndGet();
                          }
                        }
                      }
                    } catch (Exception e) {
                      failures.add(e);
                      connected.countDown();
                    }
                  }));
    }
    if (!connected.await(60, TimeUnit.SECONDS)) {
      stop.set(true);
      throw new IllegalStateException(
          clients + " clients did not connect to the " + transport + " node within 60 s");
    }
    Thread.sleep(settings.warmup().toMillis());
    recorder.reset();
    done.set(0);
    errors.set(0);
    long start = System.nanoTime();
    measuring.set(true);
    Thread.sleep(settings.measure().toMillis());
    measuring.set(false);
    long elapsed = System.nanoTime() - start;
    long count = done.get();
    Histogram h = recorder.getIntervalHistogram();
    stop.set(true);
    for (Thread t : threads) {
      if (!t.join(Duration.ofSeconds(60))) {
        throw new IllegalStateException("a client did not stop within 60 s");
      }
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException(
          transport + " " + op + " with " + clients + " clients failed: " + failures.get(0),
          failures.get(0));
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("transport", transport);
    r.put("op", op);
    r.put("encryptionAtRest", target.sealed ? "on" : "off");
    r.put("clients", clients);
    r.put("requests", count);
    r.put("seconds", elapsed / 1e9);
    r.put("requestsPerSecond", count / (elapsed / 1e9));
    r.put("p50Us", us(h.getValueAtPercentile(50)));
    r.put("p99Us", us(h.getValueAtPercentile(99)));
    r.put("maxUs", us(h.getMaxValue()));
    r.put("errors", errors.get());
    return r;
  }

  private Map<String, Object> fixedRate(Target target, String op) throws Exception {
    String transport = target.transport();
    int rate = settings.rate();
    long interval = 1_000_000_000L / rate;
    long warm = settings.warmup().toNanos() / interval;
    long total = warm + settings.rateMeasure().toNanos() / interval;
    BlockingQueue<long[]> slots = new ArrayBlockingQueue<>((int) Math.min(total + 1, 10_000_000));
    Recorder recorder = new Recorder(3);
    AtomicLong errors = new AtomicLong();
    int expected = op.equals("request") ? 200 : 202;
    List<Thread> workers = new ArrayList<>();
    List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < RATE_CONNECTIONS; i++) {
      byte[] request = target.request(op, i);
      workers.add(
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    try (Connection c = target.connect()) {
                      while (true) {
                        long[] slot = slots.take();
                        if (slot[0] < 0) {
                          return;
                        }
                        int status = c.exchange(request);
                        long end = System.nanoTime();
                        if (slot[1] == 1) {
                          recorder.recordValue(Math.max(0, end - slot[0]));
                          if (status != expected) {
                            errors.incrementAndGet();
                          }
                        }
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    } catch (Exception e) {
                      failures.add(e);
                    }
                  }));
    }
    long start = System.nanoTime() + 10_000_000;
    for (long i = 0; i < total; i++) {
      long intended = start + i * interval;
      awaitSlot(intended);
      if (i == warm) {
        recorder.reset();
      }
      slots.put(new long[] {intended, i >= warm ? 1 : 0});
    }
    for (int i = 0; i < RATE_CONNECTIONS; i++) {
      slots.put(new long[] {-1, 0});
    }
    for (Thread t : workers) {
      if (!t.join(Duration.ofSeconds(120))) {
        throw new IllegalStateException("a fixed-rate worker did not finish within 120 s");
      }
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException(
          transport + " " + op + " at a fixed rate failed: " + failures.get(0), failures.get(0));
    }
    Histogram h = recorder.getIntervalHistogram();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("transport", transport);
    r.put("encryptionAtRest", target.sealed ? "on" : "off");
    r.put("op", op);
    r.put("rate", rate);
    r.put("connections", RATE_CONNECTIONS);
    r.put("count", h.getTotalCount());
    r.put("p50Us", us(h.getValueAtPercentile(50)));
    r.put("p90Us", us(h.getValueAtPercentile(90)));
    r.put("p99Us", us(h.getValueAtPercentile(99)));
    r.put("p999Us", us(h.getValueAtPercentile(99.9)));
    r.put("maxUs", us(h.getMaxValue()));
    r.put("errors", errors.get());
    r.put("correctedForCoordinatedOmission", true);
    return r;
  }

  /**
   * Waits until {@code intended}: parks while it is more than 200 us away, then spins. Unlike the
   * bus benchmark's pacer it does not spin the whole interval, which would take one of the
   * machine's two cores from the server; an overshooting park only delays the call, and the delay
   * counts against its latency (measured from the intended time).
   */
  private static void awaitSlot(long intended) {
    long left;
    while ((left = intended - System.nanoTime()) > 200_000) {
      java.util.concurrent.locks.LockSupport.parkNanos(left - 150_000);
    }
    while (intended - System.nanoTime() > 0) {
      Thread.onSpinWait();
    }
  }

  private static double us(long nanos) {
    return Math.round(nanos / 10.0) / 100.0;
  }

  /** A node under test, its token, and how to connect to it. */
  static final class Target implements AutoCloseable {
    final CfnServer server;
    final String token;
    final SSLContext tls; // null for plain HTTP
    final boolean sealed; // a keyring in its home: records sealed at rest

    private Target(CfnServer server, String token, SSLContext tls, boolean sealed) {
      this.server = server;
      this.token = token;
      this.tls = tls;
      this.sealed = sealed;
    }

    /**
     * A node over {@code home}: TLS 1.3 or plain HTTP, and with {@code sealed} a keyring made first
     * in its {@code .cfn/keys} (as {@code cfn keys init} does), so its stores seal their records.
     */
    static Target start(Path home, boolean tls, boolean sealed) throws Exception {
      if (sealed) {
        dev.cfn.store.crypto.Keyring.init(
                dev.cfn.store.crypto.AtRest.keysFolderOf(home.resolve(".cfn").resolve("cfn.db")),
                Map.of())
            .close();
      }
      String token;
      try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
        token =
            store
                .create(Role.AGENT, List.of(Scope.ALL), Duration.ofDays(1), "bench", "cfn:bench")
                .secret();
      }
      CfnServer server =
          CfnServer.builder(home)
              .port(0)
              .insecureHttp(!tls)
              .rateLimit(1e9, Integer.MAX_VALUE)
              .agentType(
                  AgentType.of(
                      "echo",
                      id ->
                          (m, ctx) -> {
                            if (m.isRequest()) {
                              ctx.reply(m.payload());
                            }
                          }))
              .start();
      SSLContext context = null;
      if (tls) {
        TrustManagerFactory tmf =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(server.certificate().orElseThrow().trustStore());
        context = SSLContext.getInstance("TLSv1.3");
        context.init(null, tmf.getTrustManagers(), null);
      }
      if (sealed != server.encryptionAtRest().startsWith("on")) {
        server.close();
        throw new IllegalStateException(
            "the bench node's encryption at rest is "
                + server.encryptionAtRest()
                + ", not what this target measures (is "
                + dev.cfn.store.crypto.Keyring.MASTER_KEY_ENV
                + " set?)");
      }
      return new Target(server, token, context, sealed);
    }

    String transport() {
      return tls != null ? "tls" : "plain-http";
    }

    /** The request of client {@code client}: to its own echo agent, {@code echo/CLIENT}. */
    byte[] request(String op, int client) {
      String body =
          switch (op) {
            case "send" -> "{\"to\":\"echo/" + client + "\",\"payload\":\"ping\"}";
            case RELIABLE_SEND ->
                "{\"to\":\"echo/" + client + "\",\"payload\":\"ping\",\"reliable\":true}";
            default -> "{\"to\":\"echo/" + client + "\",\"payload\":\"ping\",\"timeoutMs\":10000}";
          };
      String head =
          "POST /v1/messages/"
              + (op.equals(RELIABLE_SEND) ? "send" : op)
              + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
              + token
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + body.getBytes(StandardCharsets.UTF_8).length
              + "\r\n\r\n";
      return (head + body).getBytes(StandardCharsets.UTF_8);
    }

    Connection connect() throws IOException {
      Socket s;
      if (tls != null) {
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket();
        SSLParameters p = ssl.getSSLParameters();
        p.setProtocols(new String[] {"TLSv1.3"});
        ssl.setSSLParameters(p);
        s = ssl;
      } else {
        s = new Socket();
      }
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
      s.setSoTimeout(60_000);
      if (s instanceof SSLSocket ssl) {
        // the handshake now, while connecting: left to the first request, 256 clients' handshakes
        // (a key agreement and a signature each side) ran inside the warm-up and, on a busy
        // machine, the measuring window, so the TLS rows measured handshakes, not requests
        ssl.startHandshake();
      }
      return new Connection(s);
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /** One keep-alive HTTP/1.1 connection: writes a request, reads the status and the body. */
  static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final byte[] line = new byte[8192];

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
      this.in = new BufferedInputStream(socket.getInputStream(), 16384);
    }

    /** Sends {@code request}, reads the whole answer; returns its status. */
    int exchange(byte[] request) throws IOException {
      out.write(request);
      out.flush();
      String status = readLine();
      if (status == null || status.length() < 12) {
        throw new IOException("the server closed the connection (status line: " + status + ")");
      }
      int code = Integer.parseInt(status.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      for (String h = readLine(); h != null && !h.isEmpty(); h = readLine()) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        if (name.equals("content-length")) {
          length = Long.parseLong(value);
        } else if (name.equals("transfer-encoding") && value.equalsIgnoreCase("chunked")) {
          chunked = true;
        }
      }
      if (chunked) {
        while (true) {
          String size = readLine();
          int semi = size.indexOf(';');
          long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
          if (n == 0) {
            readLine(); // the blank line after the last chunk (no trailers are sent)
            break;
          }
          skip(n);
          readLine();
        }
      } else if (length > 0) {
        skip(length);
      }
      return code;
    }

    private void skip(long n) throws IOException {
      long left = n;
      while (left > 0) {
        long s = in.skip(left);
        if (s <= 0) {
          if (in.read() < 0) {
            throw new IOException("the server closed the connection mid-body");
          }
          s = 1;
        }
        left -= s;
      }
    }

    private String readLine() throws IOException {
      int n = 0;
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          int end = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
          return new String(line, 0, end, StandardCharsets.ISO_8859_1);
        }
        if (n == line.length) {
          throw new IOException("a header line longer than " + line.length + " bytes");
        }
        line[n++] = (byte) b;
      }
      return n == 0 ? null : new String(line, 0, n, StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
