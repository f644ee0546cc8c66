package dev.cfn.flow.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.SwarmRuleException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Test members: agents of type {@value #TYPE} that, told so from outside, send a message to another
 * member (and report whether the bus let it through), and answer every other message by sending
 * back to its sender, as cfn's agents answer a plain message (the answer is set per member, default
 * {@code "yes"}; {@link #SILENT} members never answer).
 */
final class Members {
  static final String TYPE = "member";
  static final Object SILENT = new Object();
  static final Duration WAIT = Duration.ofSeconds(60);

  /** Tells a member to send "hi" to {@code to}; {@code outcome} gets "sent" or the refusal. */
  record Order(AgentId to, CompletableFuture<String> outcome) {}

  final Map<AgentId, Object> answers = new ConcurrentHashMap<>();

  AgentType type() {
    return AgentType.of(
        TYPE,
        id ->
            (m, ctx) -> {
              if (m.payload() instanceof Order o) {
                try {
                  ctx.send(o.to(), "hi");
                  o.outcome().complete("sent");
                } catch (SwarmRuleException ex) {
                  o.outcome().complete(ex.getMessage());
                }
              } else if (!"hi".equals(m.payload())) {
                Object answer = answers.getOrDefault(ctx.self(), "yes");
                if (answer == SILENT) {
                  return;
                }
                if (m.isRequest()) {
                  ctx.reply(answer);
                } else {
                  ctx.send(m.sender(), answer);
                }
              }
            });
  }

  static AgentRuntime runtime(Members members) {
    AgentRuntime rt = AgentRuntime.builder().carriers(2).jvmMetrics(false).build();
    rt.register(members.type());
    return rt;
  }

  static AgentId id(int i) {
    return AgentId.of(TYPE, "m" + i);
  }

  /** Joins members m{from} .. m{to-1} in order. */
  static List<AgentId> join(Swarm swarm, int from, int to) {
    List<AgentId> ids = new ArrayList<>();
    for (int i = from; i < to; i++) {
      AgentId id = id(i);
      assertThat(swarm.join(id)).isTrue();
      ids.add(id);
    }
    return ids;
  }

  /** What happened when {@code from} sent to {@code to}: "sent" or the refusal's message. */
  static String send(AgentRuntime rt, AgentId from, AgentId to) {
    CompletableFuture<String> outcome = new CompletableFuture<>();
    rt.send(from, new Order(to, outcome));
    try {
      return outcome.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return fail("member " + from + " never reported its send to " + to + ": " + e);
    }
  }

  static void eventually(BooleanSupplier condition, String what) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        fail("condition never held: " + what);
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting for " + what);
      }
    }
  }

  static <T> T join(CompletableFuture<T> f) {
    try {
      return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return fail("did not complete: " + e);
    }
  }
}
