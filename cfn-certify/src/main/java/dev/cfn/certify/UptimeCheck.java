package dev.cfn.certify;

import dev.cfn.server.auth.Role;
import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Check 5: system uptime. A node served as {@code cfn serve} serves it ({@link ServeNode}, in a JVM
 * of its own) is probed on {@code GET /health/ready} every 100 ms for the profile's duration, each
 * probe on the schedule (not after the previous one), while clients load it through the API
 * (best-effort and RELIABLE sends, agents whose handler fails every 10th message, malformed bodies
 * and wrong tokens mixed in) and while it is SIGKILLed and restarted on purpose the profile's
 * number of times. A probe is up when it is answered 200 within {@value #PROBE_TIMEOUT_MS} ms of
 * its scheduled time (Kubernetes' default readiness timeout). Uptime = probes up / probes counted;
 * the probes from each deliberate SIGKILL to the first ready answer after it are not counted, and
 * are reported apart as deliberate downtime (a probe sent before the signal is excused only when
 * its connection broke after it, see {@link #excused}); a node that is never ready again after a
 * deliberate SIGKILL fails the check, whatever the uptime of the probes counted. A node that dies
 * by itself is restarted at once, as a service manager would, and its downtime counts.
 */
final class UptimeCheck implements Check {
  static final long PROBE_TIMEOUT_MS = 1_000;
  private static final long PROBE_EVERY_MS = 100;
  private static final int LANES = 4;

  private final long haltAfter; // 0: the real node; else it crashes by itself after N messages
  private final long restartDelayMs; // 0: the real node; else a restarted node sleeps this long

  UptimeCheck(long haltAfter) {
    this(haltAfter, 0);
  }

  UptimeCheck(long haltAfter, long restartDelayMs) {
    this.haltAfter = haltAfter;
    this.restartDelayMs = restartDelayMs;
  }

  @Override
  public CheckId id() {
    return CheckId.UPTIME;
  }

  @Override
  public String method(Context ctx) {
    Profile p = ctx.profile();
    return "A node served as `cfn serve` serves it, in its own JVM, probed on GET /health/ready"
        + " every 100 ms for "
        + p.uptime().toSeconds()
        + " s (up = 200 within 1 s of the scheduled time) while "
        + LANES
        + " clients send through the API (best-effort and RELIABLE, handlers failing every 10th"
        + " message, malformed bodies and wrong tokens mixed in), and SIGKILLed and restarted on"
        + " purpose "
        + p.uptimeKills()
        + " time(s). Uptime = probes up / probes counted; from each deliberate SIGKILL to the"
        + " next ready answer the probes are not counted and are reported apart (a probe sent"
        + " before the signal only when its connection broke after it; a node never"
        + " ready again fails the check). A node that dies"
        + " by itself is restarted at once and its downtime counts.";
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Profile p = ctx.profile();
    Path home = Files.createDirectories(ctx.work().resolve("node"));
    KeyStore trust = ApiClient.trustOf(home); // generates the certificate the node then uses
    List<String> tokens = new ArrayList<>(); // one a lane: each token has its own rate limit
    for (int i = 0; i < LANES; i++) {
      tokens.add(ServedNode.token(home, Role.AGENT));
    }
    int port = freePort();
    List<String> where = List.of("--home", home.toString(), "--port", Integer.toString(port));
    List<String> args = new ArrayList<>(where); // a restarted node's
    if (restartDelayMs > 0) {
      args.addAll(List.of("--start-delay-ms", Long.toString(restartDelayMs)));
    }
    List<String> first = new ArrayList<>(where);
    if (haltAfter > 0) {
      first.addAll(List.of("--halt-after", Long.toString(haltAfter)));
    }
    int starts = 0;
    ChildJvm node = ServeNode.start(first, ctx.work().resolve("node-" + starts++ + ".log"));
    String url = "https://127.0.0.1:" + port;
    long durationMs = p.uptime().toMillis();
    int total = (int) (durationMs / PROBE_EVERY_MS);
    AtomicLongArray answeredAt = new AtomicLongArray(total); // 0: not up; else answer time
    // per probe, ns since t0 plus one (0: never): when its request was sent, and when its
    // connection broke (an error, not a timeout)
    AtomicLongArray sentAt = new AtomicLongArray(total);
    AtomicLongArray brokeAt = new AtomicLongArray(total);
    List<Long> kills = new ArrayList<>(); // ms since t0
    List<Long> killNanos = new ArrayList<>(); // ns since t0, taken just before the signal
    List<Long> crashes = new ArrayList<>();
    Load load = new Load();
    List<String> probeErrors = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    long t0;
    try {
      node.await("ready", 120);
      ApiClient probeClient = new ApiClient(url, trust, Duration.ofSeconds(5));
      ApiClient loadClient = new ApiClient(url, trust, Duration.ofSeconds(5));
      // the clients connect once before the clock starts, as a load balancer would wait for ready
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (probeClient.get("/health/ready", null, Duration.ofSeconds(5)).status() != 200
          || loadClient.get("/health/ready", null, Duration.ofSeconds(5)).status() != 200) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "the node printed ready but did not answer /health/ready within 60 s (see "
                  + ctx.work()
                  + ")");
        }
        Thread.sleep(100);
      }
      t0 = System.nanoTime();
      long start = t0;
      for (int i = 0; i < LANES; i++) {
        int lane = i;
        threads.add(Thread.ofVirtual().start(() -> load.run(loadClient, tokens.get(lane), lane)));
      }
      Thread prober =
          Thread.ofPlatform()
              .name("certify-uptime-prober")
              .daemon(true)
              .start(
                  () -> probe(probeClient, start, total, answeredAt, sentAt, brokeAt, probeErrors));
      long nextKill = p.uptimeKills() > 0 ? durationMs / (p.uptimeKills() + 1) : Long.MAX_VALUE;
      int killed = 0;
      while (true) {
        long now = (System.nanoTime() - t0) / 1_000_000;
        if (now >= durationMs) {
          break;
        }
        if (now >= nextKill) {
          kills.add(now);
          killNanos.add(System.nanoTime() - t0);
          node.kill();
          ctx.step(
              id(),
              "deliberate SIGKILL "
                  + (killed + 1)
                  + "/"
                  + p.uptimeKills()
                  + " at "
                  + now / 1000.0
                  + " s; restarting");
          node = ServeNode.start(args, ctx.work().resolve("node-" + starts++ + ".log"));
          killed++;
          nextKill =
              killed < p.uptimeKills()
                  ? durationMs * (killed + 1) / (p.uptimeKills() + 1)
                  : Long.MAX_VALUE;
        } else if (!node.isAlive()) {
          crashes.add(now);
          ctx.step(
              id(),
              "the node died by itself at "
                  + now / 1000.0
                  + " s ("
                  + node.cause()
                  + "); restarting");
          node = ServeNode.start(args, ctx.work().resolve("node-" + starts++ + ".log"));
        }
        Thread.sleep(20);
      }
      load.stop.set(true);
      prober.join(PROBE_TIMEOUT_MS * 2 + 5_000);
      for (Thread t : threads) {
        t.join(10_000);
      }
    } finally {
      load.stop.set(true);
      if (node.isAlive()) {
        node.stop(30);
      }
    }
    boolean[] upArr = new boolean[total];
    long[] sent = new long[total];
    long[] broke = new long[total];
    for (int i = 0; i < total; i++) {
      upArr[i] = answeredAt.get(i) != 0;
      sent[i] = sentAt.get(i) - 1;
      broke[i] = brokeAt.get(i) - 1;
    }
    Excused excused = excused(killNanos, upArr, sent, broke, durationMs);
    boolean[] deliberate = excused.deliberate();
    List<Double> deliberateSeconds = excused.seconds();
    int neverBack = excused.neverBack();
    int counted = 0;
    int up = 0;
    List<Double> downAt = new ArrayList<>();
    List<List<Double>> timeline = new ArrayList<>();
    int last = -1;
    for (int i = 0; i < total; i++) {
      int state = deliberate[i] ? 2 : answeredAt.get(i) != 0 ? 1 : 0;
      if (state != last) {
        timeline.add(List.of(i * PROBE_EVERY_MS / 1000.0, (double) state));
        last = state;
      }
      if (deliberate[i]) {
        continue;
      }
      counted++;
      if (answeredAt.get(i) != 0) {
        up++;
      } else {
        downAt.add(i * PROBE_EVERY_MS / 1000.0);
      }
    }
    double uptime = counted == 0 ? Double.NaN : 100.0 * up / counted;
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("probes", total);
    f.put("probesCounted", counted);
    f.put("probesUp", up);
    f.put("probesDown", counted - up);
    f.put("downAtSeconds", downAt.size() > 50 ? downAt.subList(0, 50) : downAt);
    f.put("failedProbes", List.copyOf(probeErrors));
    f.put("deliberateKills", kills.size());
    f.put("deliberateDowntimeSeconds", Figures.summary(deliberateSeconds));
    f.put("deliberateKillsNeverBack", neverBack);
    f.put("unplannedRestarts", crashes.size());
    f.put("loadSent", load.sent.get());
    f.put("loadAccepted", load.accepted.get());
    f.put("loadRefused", load.refused.get());
    f.put("loadServerErrors", load.serverErrors.get());
    f.put("loadUnanswered", load.unanswered.get());
    f.put("timeline", timeline);
    double target = ctx.target(id());
    String verdict =
        Figures.format(uptime)
            + " % ("
            + up
            + " of "
            + counted
            + " probes ready) against "
            + id().describeTarget(target)
            + "; "
            + kills.size()
            + " deliberate SIGKILL(s) reported apart (down "
            + deliberateSeconds.stream().map(Figures::format).toList()
            + " s), "
            + crashes.size()
            + " unplanned restart(s); load "
            + load.sent.get()
            + " calls, "
            + load.serverErrors.get()
            + " answered 5xx"
            + (neverBack == 0
                ? ""
                : "; after "
                    + neverBack
                    + " deliberate SIGKILL(s) the node was never ready again before the end, so"
                    + " the uptime above leaves that downtime out: failed");
    return CheckResult.measured(id(), uptime, target, neverBack == 0, method(ctx), verdict, f);
  }

  /**
   * The probes a deliberate kill excuses, its downtime, and the kills never followed by a ready
   * answer.
   *
   * @param deliberate per probe: not counted, part of a deliberate kill's downtime
   * @param seconds per kill: from the kill to the first ready probe scheduled after it
   * @param neverBack kills after which no probe was ready until the end
   */
  record Excused(boolean[] deliberate, List<Double> seconds, int neverBack) {}

  /**
   * The deliberate windows: from each kill to the first probe scheduled after it and answered
   * ready. A probe that was not ready is excused when it was scheduled after the kill signal, when
   * its request was sent after the signal, or when its connection broke after the signal (the kill
   * closed it under the request); one sent before the kill that timed out, was refused, or was not
   * sent at all because the previous probe was still unanswered is the node's own downtime and
   * counts.
   *
   * @param kills ns since the start, each taken just before the signal was sent
   * @param up per probe: answered ready in time
   * @param sent per probe: ns since the start when its request was sent, -1 when it was not
   * @param broke per probe: ns since the start when its connection failed with an error (not a
   *     timeout), -1 when it did not
   * @param durationMs the run's length, for a kill never followed by a ready probe
   */
  static Excused excused(
      List<Long> kills, boolean[] up, long[] sent, long[] broke, long durationMs) {
    int total = up.length;
    long every = PROBE_EVERY_MS * 1_000_000L;
    boolean[] deliberate = new boolean[total];
    List<Double> seconds = new ArrayList<>();
    int neverBack = 0;
    for (long k : kills) {
      // a probe sent before the kill may break under it: look from one timeout before
      int j = (int) Math.max(0, (k - PROBE_TIMEOUT_MS * 1_000_000L) / every);
      long upAgain = -1;
      for (; j < total; j++) {
        long scheduled = j * every;
        if (up[j]) {
          if (scheduled >= k) {
            upAgain = scheduled;
            break;
          }
        } else if (scheduled >= k || sent[j] >= k || broke[j] >= k) {
          deliberate[j] = true;
        }
      }
      if (upAgain < 0) {
        neverBack++;
        upAgain = durationMs * 1_000_000L;
      }
      seconds.add((upAgain - k) / 1e9);
    }
    return new Excused(deliberate, seconds, neverBack);
  }

  /**
   * Probes on the schedule, at most one in flight, on one keep-alive connection: a probe is up when
   * answered 200 within the timeout of its own scheduled time. A probe that is late is marked down
   * but left to finish, so that its connection stays usable; while it is still in flight, the
   * probes falling due are down too. So the prober never floods a slow node with connections.
   */
  private static void probe(
      ApiClient client,
      long t0,
      int total,
      AtomicLongArray answeredAt,
      AtomicLongArray sentAt,
      AtomicLongArray brokeAt,
      List<String> errors) {
    CompletableFuture<ApiClient.Answer> inFlight = null;
    for (int i = 0; i < total; i++) {
      long due = t0 + i * PROBE_EVERY_MS * 1_000_000L;
      long limit = due + PROBE_TIMEOUT_MS * 1_000_000L;
      try {
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(Duration.ofNanos(wait));
        }
        if (inFlight != null && !inFlight.isDone()) {
          try {
            inFlight.get(Math.max(0, limit - System.nanoTime()), TimeUnit.NANOSECONDS);
          } catch (TimeoutException e) {
            note(errors, i, "the previous probe is still unanswered");
            continue;
          }
        }
        sentAt.set(i, System.nanoTime() - t0 + 1);
        inFlight = client.getAsync("/health/ready", Duration.ofSeconds(30));
        ApiClient.Answer a;
        try {
          a = inFlight.get(Math.max(0, limit - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          note(errors, i, "no answer within " + PROBE_TIMEOUT_MS + " ms");
          continue;
        }
        if (a.status() == 200) {
          answeredAt.set(i, System.nanoTime());
        } else {
          if (a.status() == 0) { // no HTTP answer: the connection failed (refused, reset, closed)
            brokeAt.set(i, System.nanoTime() - t0 + 1);
          }
          note(errors, i, a.toString());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException e) {
        brokeAt.set(i, System.nanoTime() - t0 + 1);
        note(errors, i, e.getCause().toString());
      }
    }
  }

  private static void note(List<String> errors, int probe, String what) {
    if (errors.size() < 20) {
      errors.add(String.format(Locale.ROOT, "%.1f s: %s", probe * PROBE_EVERY_MS / 1000.0, what));
    }
  }

  /** Clients sending through the API until stopped, every call counted by its answer. */
  static final class Load {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong sent = new AtomicLong();
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong serverErrors = new AtomicLong();
    final AtomicLong unanswered = new AtomicLong();

    void run(ApiClient client, String token, int lane) {
      long n = 0;
      while (!stop.get()) {
        n++;
        String key = (n % 3 == 0 ? "flaky-" : "k-") + lane + "-" + (n % 50);
        String body =
            "{\"to\":\""
                + ServedNode.SINK
                + "/"
                + key
                + "\",\"payload\":{\"n\":"
                + n
                + "}"
                + (n % 10 == 0 ? ",\"reliable\":true" : "")
                + "}";
        String tok = token;
        if (n % 20 == 7) {
          body = "{\"to\": ";
        } else if (n % 20 == 13) {
          tok = "cfn_not-a-token";
        }
        ApiClient.Answer a =
            client.json("POST", "/v1/messages/send", tok, body, Duration.ofSeconds(5));
        sent.incrementAndGet();
        if (a.status() == 0) {
          unanswered.incrementAndGet();
        } else if (a.serverError()) {
          serverErrors.incrementAndGet();
        } else if (a.ok()) {
          accepted.incrementAndGet();
        } else {
          refused.incrementAndGet();
        }
        try {
          Thread.sleep(a.status() == 0 ? 50 : 25); // under the token's 50 calls a second
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
