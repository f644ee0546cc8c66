package dev.cfn.certify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.core.AgentType;
import dev.cfn.server.auth.Role;
import dev.cfn.testkit.FaultProxy;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.NetworkFault;
import dev.cfn.testkit.Reply;
import dev.cfn.testkit.process.ChildJvm;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Check 10: network resilience. A node served as {@code cfn serve} serves it runs in a JVM of its
 * own ({@link ServeNode}), and the testkit's {@link FaultProxy} stands in front of two servers: the
 * testkit's {@link ModelServer}, called by the node's {@link LlmAgent}s through cfn's model client
 * (timeouts, retries with backoff, circuit breaker), the tasks sent to them as requests through the
 * node's API; and the node's API itself, called by clients that retry RELIABLE sends with an
 * idempotency key. What arrived at the node is what the node's own process reports. Each scenario
 * runs paced work on both lanes of one target, injects one fault (reset, blackhole, latency spike,
 * half-open, slow link) for the profile's hold time, heals it, and passes when all the work
 * completes within {@value #HEAL_DEADLINE_S} s of the heal with nothing lost (every task answered,
 * every API message arrived) and nothing duplicated (no message arrived twice). Score = scenarios
 * passed / scenarios run; five faults, two targets, the profile's number of rounds.
 *
 * <p>Each lane works its items in order, so what it finished is a prefix of its items: an item is
 * <em>lost</em> when the client finished with it without success (it gave up: a task not answered
 * {@code ok}, a send never acknowledged) and, for the API, when it never arrived at the node;
 * <em>unfinished</em> when the deadline came first (in progress or not started). Both fail the
 * scenario; they are counted apart because a slow machine leaves work unfinished without losing
 * any.
 */
final class ResilienceCheck implements Check {
  static final long HEAL_DEADLINE_S = 10;

  /** The node's LLM agent type, whose model client goes through the proxy. */
  static final String LLM = "certify-llm";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LANES = 3;
  private static final int ITEMS_PER_LANE = 10;
  private static final long PACE_MS = 50;

  /**
   * How the clients behave: the real ones retry; the honesty test's do not.
   *
   * @param retries whether the model client and the API client retry a failed call
   */
  record Clients(boolean retries) {
    static final Clients REAL = new Clients(true);
  }

  private final Clients clients;

  ResilienceCheck(Clients clients) {
    this.clients = clients;
  }

  @Override
  public CheckId id() {
    return CheckId.RESILIENCE;
  }

  static List<NetworkFault> faults() {
    return List.of(
        NetworkFault.reset(),
        NetworkFault.blackhole(),
        NetworkFault.latency(Duration.ofMillis(500)),
        NetworkFault.halfOpen(),
        NetworkFault.slowLink(16 * 1024));
  }

  @Override
  public String method(Context ctx) {
    Profile p = ctx.profile();
    return "A node served as `cfn serve` serves it, in a JVM of its own, and the testkit's TCP"
        + " fault proxy in front of (a) the testkit's model server, called by the node's LLM"
        + " agents through cfn's model client (2 s per attempt, retries with 100-500 ms backoff,"
        + " circuit breaker cooling down in 1 s), the tasks sent to them as requests through the"
        + " node's API, and (b) the node's HTTPS API, called with RELIABLE sends carrying an"
        + " idempotency key, retried by the client (2 s per attempt); what arrived, and how often,"
        + " is what the node's process reports. Each scenario: "
        + LANES
        + " lanes of "
        + ITEMS_PER_LANE
        + " paced items, one fault (reset, blackhole, latency spike 500 ms, half-open, slow link"
        + " 16 KiB/s) held "
        + p.faultHold().toMillis()
        + " ms then healed; it passes when all the work completes within "
        + HEAL_DEADLINE_S
        + " s of the heal, nothing lost, nothing duplicated. "
        + p.resilienceRounds() * 10
        + " scenarios; score = passed / run.";
  }

  /** What one scenario found. */
  record Scenario(
      String target,
      String fault,
      boolean passed,
      int items,
      int completed,
      int lost,
      int unfinished,
      int duplicated,
      double secondsAfterHeal,
      String detail,
      List<Integer> finished) {
    Scenario {
      finished = List.copyOf(finished);
    }

    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("target", target);
      m.put("fault", fault);
      m.put("passed", passed);
      m.put("items", items);
      m.put("completed", completed);
      m.put("lost", lost);
      m.put("unfinished", unfinished);
      m.put("duplicated", duplicated);
      m.put("secondsAfterHeal", secondsAfterHeal);
      m.put("detail", detail);
      return m;
    }
  }

  @Override
  public CheckResult run(Context ctx) throws Exception {
    Profile p = ctx.profile();
    Path home = Files.createDirectories(ctx.work().resolve("node"));
    List<Scenario> scenarios = new ArrayList<>();
    try (ModelServer model = ModelServer.builder().requestHistory(0).start();
        FaultProxy modelProxy = proxyTo(model.baseUrl());
        ServeNode.Served node =
            ServeNode.serve(
                home,
                ctx.work().resolve("node-tmp"),
                ctx.work().resolve("served-node.log"),
                List.of(
                    "--rate-limit",
                    "1000",
                    "--report-arrivals",
                    "--model-url",
                    "http://127.0.0.1:" + modelProxy.port() + "/v1",
                    "--model-attempts",
                    clients.retries() ? "100" : "1"));
        FaultProxy apiProxy = proxyTo(URI.create(node.client.url()))) {
      model.script().on(Match.any()).reply(Reply.text("ok"));
      String token = node.token(Role.AGENT, "agent:" + ServedNode.SINK);
      String llmToken = node.token(Role.AGENT, "agent:" + LLM);
      ApiClient api =
          new ApiClient(
              "https://127.0.0.1:" + apiProxy.port(), node.client.trust(), Duration.ofSeconds(2));
      int n = 0;
      for (int round = 1; round <= p.resilienceRounds(); round++) {
        for (String target : List.of("model server", "API")) {
          for (NetworkFault fault : faults()) {
            String id = "r" + round + "-" + n++;
            Scenario s =
                target.equals("API")
                    ? scenario(
                        target,
                        fault,
                        apiProxy,
                        p.faultHold(),
                        (lane, tally) -> apiItems(api, token, id, lane, tally))
                    : scenario(
                        target,
                        fault,
                        modelProxy,
                        p.faultHold(),
                        (lane, tally) -> modelItems(node.client, llmToken, id, lane, tally));
            if (target.equals("API")) {
              s = audited(s, node.jvm, id);
            }
            scenarios.add(s);
            ctx.step(
                id(),
                target
                    + ", "
                    + fault.describe()
                    + ": "
                    + (s.passed() ? "passed" : "FAILED")
                    + " ("
                    + s.detail()
                    + ")");
          }
        }
      }
      api.close();
    }
    long passed = scenarios.stream().filter(Scenario::passed).count();
    double score = 100.0 * passed / scenarios.size();
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("scenariosRun", scenarios.size());
    f.put("scenariosPassed", passed);
    f.put("scenarios", scenarios.stream().map(Scenario::asMap).toList());
    double target = ctx.target(id());
    List<String> failed =
        scenarios.stream()
            .filter(s -> !s.passed())
            .map(s -> s.target() + "/" + s.fault() + " (" + s.detail() + ")")
            .toList();
    String verdict =
        passed
            + " of "
            + scenarios.size()
            + " fault scenarios passed ("
            + Figures.format(score)
            + " %) against "
            + id().describeTarget(target)
            + (failed.isEmpty()
                ? ""
                : "; failed: "
                    + String.join("; ", failed.subList(0, Math.min(4, failed.size())))
                    + (failed.size() > 4 ? "; ..." : ""));
    return CheckResult.measured(id(), score, target, true, method(ctx), verdict, f);
  }

  /** The work of one lane, in order: each item ends {@link Tally#done} or {@link Tally#gaveUp}. */
  @FunctionalInterface
  interface Lane {
    void work(int lane, Tally tally) throws Exception;
  }

  /**
   * What the lanes of a scenario finished, per lane; an item is counted as soon as the lane is done
   * with it, so a lane stopped at the deadline keeps its count.
   */
  static final class Tally {
    final AtomicIntegerArray done = new AtomicIntegerArray(LANES);
    final AtomicIntegerArray gaveUp = new AtomicIntegerArray(LANES);

    void done(int lane) {
      done.incrementAndGet(lane);
    }

    void gaveUp(int lane) {
      gaveUp.incrementAndGet(lane);
    }

    int sum(AtomicIntegerArray a) {
      int n = 0;
      for (int i = 0; i < LANES; i++) {
        n += a.get(i);
      }
      return n;
    }

    /** Items the lane finished with, succeeded or not: its first ones. */
    int finished(int lane) {
      return done.get(lane) + gaveUp.get(lane);
    }
  }

  private Scenario scenario(
      String target, NetworkFault fault, FaultProxy proxy, Duration hold, Lane work)
      throws InterruptedException {
    Tally tally = new Tally();
    List<Thread> lanes = new ArrayList<>();
    String[] error = new String[1];
    for (int i = 0; i < LANES; i++) {
      int lane = i;
      lanes.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      work.work(lane, tally);
                    } catch (InterruptedException e) {
                      // stopped at the deadline: what it had not finished is unfinished
                    } catch (Exception e) {
                      error[0] = e.toString();
                    }
                  }));
    }
    Thread.sleep(3 * PACE_MS); // the work is under way
    proxy.inject(fault);
    Thread.sleep(hold.toMillis());
    proxy.heal();
    long healed = System.nanoTime();
    long deadline = healed + TimeUnit.SECONDS.toNanos(HEAL_DEADLINE_S);
    for (Thread t : lanes) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        t.join(Duration.ofNanos(left));
      }
    }
    boolean inTime = lanes.stream().noneMatch(Thread::isAlive);
    double after = (System.nanoTime() - healed) / 1e9;
    for (Thread t : lanes) {
      t.interrupt(); // a lane still retrying past the deadline stops
    }
    for (Thread t : lanes) {
      t.join(30_000);
    }
    int items = LANES * ITEMS_PER_LANE;
    int done = tally.sum(tally.done);
    int gaveUp = tally.sum(tally.gaveUp);
    int unfinished = items - done - gaveUp;
    boolean passed = inTime && done == items;
    String detail =
        done
            + " of "
            + items
            + " items completed"
            + (inTime ? " " + Figures.format(after) + " s after the heal" : ", deadline passed")
            + (gaveUp > 0 ? ", " + gaveUp + " given up" : "")
            + (unfinished > 0 ? ", " + unfinished + " unfinished" : "")
            + (error[0] != null ? "; " + error[0] : "");
    return new Scenario(
        target,
        fault.describe(),
        passed,
        items,
        done,
        gaveUp,
        unfinished,
        0,
        inTime ? after : Double.NaN,
        detail,
        java.util.stream.IntStream.range(0, LANES).mapToObj(tally::finished).toList());
  }

  /**
   * API scenarios: every message the clients finished with must have arrived, exactly once (the
   * server's side of it). A message sent and acknowledged, or given up on, that never arrived is
   * lost; one still unfinished at the deadline is not looked for.
   */
  private static Scenario audited(Scenario s, ChildJvm node, String id)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HEAL_DEADLINE_S);
    int arrived;
    int missing;
    int duplicated;
    while (true) {
      arrived = 0;
      missing = 0;
      duplicated = 0;
      for (int lane = 0; lane < LANES; lane++) {
        int finished = s.finished().get(lane);
        for (int i = 0; i < ITEMS_PER_LANE; i++) {
          int c = node.count("arrived " + id + "-" + lane + "-" + i + " ");
          if (c > 0) {
            arrived++;
            if (c > 1) {
              duplicated++;
            }
          } else if (i < finished) {
            missing++;
          }
        }
      }
      if (missing == 0 || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(20);
    }
    boolean passed = s.passed() && missing == 0 && duplicated == 0;
    return new Scenario(
        s.target(),
        s.fault(),
        passed,
        s.items(),
        s.completed(),
        missing,
        s.unfinished(),
        duplicated,
        s.secondsAfterHeal(),
        s.detail() + "; " + arrived + " arrived, " + duplicated + " twice",
        s.finished());
  }

  /**
   * A lane of tasks to the node's LLM agents, each a request through the node's API (not through
   * the proxy: the fault is between the node and the model server); an item is done when its reply
   * is the model's answer {@code ok}.
   */
  private static void modelItems(
      ApiClient client, String token, String scenario, int lane, Tally tally)
      throws InterruptedException {
    for (int i = 0; i < ITEMS_PER_LANE; i++) {
      String body =
          "{\"to\":\""
              + LLM
              + "/"
              + scenario
              + "-"
              + lane
              + "\",\"payload\":\"item "
              + scenario
              + "-"
              + lane
              + "-"
              + i
              + "\",\"timeoutMs\":60000}";
      ApiClient.Answer a =
          client.json("POST", "/v1/messages/request", token, body, Duration.ofSeconds(70));
      if (Thread.currentThread().isInterrupted()) {
        return; // stopped at the deadline: unfinished
      }
      if (a.ok() && "ok".equals(answerText(a.body()))) {
        tally.done(lane);
      } else {
        tally.gaveUp(lane);
      }
      Thread.sleep(PACE_MS);
    }
  }

  /** The text of the task result a request's reply carries; null when it carries none. */
  private static String answerText(String body) {
    try {
      JsonNode text = JSON.readTree(body).path("payload").path("text");
      return text.isTextual() ? text.asText() : null;
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private void apiItems(ApiClient api, String token, String scenario, int lane, Tally tally)
      throws InterruptedException {
    for (int i = 0; i < ITEMS_PER_LANE; i++) {
      String item = scenario + "-" + lane + "-" + i;
      String body =
          "{\"to\":\""
              + ServedNode.SINK
              + "/res-"
              + lane
              + "\",\"payload\":{\"item\":\""
              + item
              + "\"},\"reliable\":true,\"idempotencyKey\":\""
              + item
              + "\"}";
      long backoff = 100;
      while (true) {
        ApiClient.Answer a =
            api.json("POST", "/v1/messages/send", token, body, Duration.ofSeconds(2));
        if (a.ok()) {
          tally.done(lane);
          break;
        }
        if (Thread.currentThread().isInterrupted()) {
          return; // stopped at the deadline: unfinished
        }
        if (!clients.retries()) {
          tally.gaveUp(lane);
          break;
        }
        Thread.sleep(backoff);
        backoff = Math.min(500, backoff * 2);
      }
      Thread.sleep(PACE_MS);
    }
  }

  private static FaultProxy proxyTo(URI server) {
    return FaultProxy.start(server.getHost(), server.getPort());
  }

  /**
   * The node's LLM agent type {@value #LLM} ({@link ServeNode}'s {@code --model-url}): agents of
   * the definition {@code certify} whose model client calls {@code baseUrl} (2 s per attempt, at
   * most {@code attempts} attempts with 100-500 ms backoff, a circuit breaker cooling down in 1 s).
   */
  static AgentType llmType(String baseUrl, int attempts) {
    ModelRouter router =
        ModelRouter.create(
            ModelConfig.parse(
                "providers:\n  local:\n    kind: openai\n    base-url: "
                    + baseUrl
                    + "\n    model: certify-model\n"
                    + "    request-timeout: 2s\n    connect-timeout: 2s\n"
                    + "    retry: {max-attempts: "
                    + attempts
                    + ", initial-backoff: 100ms, max-backoff: 500ms}\n"
                    + "    circuit-breaker: {cool-down: 1s}\n",
                "cfn certify",
                Map.of()));
    return LlmAgent.builder(definition())
        .model(router.provider("local"))
        .timeout(Duration.ofSeconds(60))
        .type(LLM);
  }

  private static AgentDefinition definition() {
    return DefinitionLoader.parse(
            "---\nname: certify\ndescription: answers at once\ntools: []\n---\nAnswer briefly.\n",
            Path.of("certify.md"))
        .definitions()
        .getFirst();
  }
}
