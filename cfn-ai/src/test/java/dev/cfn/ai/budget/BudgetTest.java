package dev.cfn.ai.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.model.Usage;
import dev.cfn.core.Effects;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Limits, parents, pricing of unknown models, wall time on a hand-moved clock, and threads. */
class BudgetTest {
  private static final Usage HUNDRED = new Usage(80, 20, 0);

  /** A nanosecond counter the test moves by hand. */
  static final class HandClock {
    final AtomicLong nanos = new AtomicLong(5_000_000_000L);

    long read() {
      return nanos.get();
    }

    void advance(Duration d) {
      nanos.addAndGet(d.toNanos());
    }
  }

  @Test
  void aCallLimitAdmitsThatManyCallsAndRefusesTheNext() {
    Budget b = Budget.builder("agent coder/1").maxCalls(3).build();
    for (int i = 0; i < 3; i++) {
      b.check("gpt-4o");
      b.charge(HUNDRED, "gpt-4o");
    }
    assertThatThrownBy(() -> b.check("gpt-4o"))
        .isInstanceOfSatisfying(
            BudgetExhaustedException.class,
            e -> {
              assertThat(e.budget()).isEqualTo("agent coder/1");
              assertThat(e.limit()).isEqualTo(Budget.Limit.CALLS);
              assertThat(e.used()).isEqualByComparingTo("3");
              assertThat(e.max()).isEqualByComparingTo("3");
            })
        .hasMessageContaining("budget 'agent coder/1' is exhausted")
        .hasMessageContaining("calls limit reached (3 of 3 calls used)")
        .hasMessageContaining("maxCalls");
    assertThat(b.spent().calls()).isEqualTo(3);
    assertThat(b.spent().totalTokens()).isEqualTo(300);
  }

  @Test
  void aListenerHearsEachChargeOfItsBudgetAfterItIsCountedAlongTheChain() {
    Budget swarm = Budget.builder("swarm s").build();
    List<String> heard = new ArrayList<>();
    Budget member =
        Budget.builder("agent a/1")
            .parent(swarm)
            .onCharge(
                (usage, model) ->
                    heard.add(
                        model
                            + " "
                            + usage.totalTokens()
                            + " "
                            + swarm.spent().calls())) // counted in the parent already
            .build();
    Budget other = Budget.builder("agent b/1").parent(swarm).build();
    member.charge(HUNDRED, "gpt-4o");
    other.charge(HUNDRED, "gpt-4o"); // a sibling's charge is not this listener's
    member.charge(new Usage(5, 5, 0), "gpt-4o-mini");
    assertThat(heard).containsExactly("gpt-4o 100 1", "gpt-4o-mini 10 3");
    assertThat(swarm.spent().calls()).isEqualTo(3);
  }

  @Test
  void aChargeWithTheAcknowledgementItRidesReachesTheListenerWithItAndIsCountedAsAnyOther() {
    Effects commit =
        (Effects)
            Proxy.newProxyInstance(
                Effects.class.getClassLoader(),
                new Class<?>[] {Effects.class},
                (proxy, method, args) -> {
                  throw new UnsupportedOperationException(method.getName());
                });
    List<String> heard = new ArrayList<>();
    Budget swarm = Budget.builder("swarm s").build();
    Budget member =
        Budget.builder("agent a/1")
            .parent(swarm)
            .onCharge(
                new Budget.Charged() {
                  @Override
                  public void charged(Usage usage, String model) {
                    heard.add("alone " + model);
                  }

                  @Override
                  public void charged(Usage usage, String model, Effects with) {
                    heard.add("with " + model + " " + (with == commit));
                  }
                })
            .build();
    member.charge(HUNDRED, "gpt-4o", commit);
    member.charge(HUNDRED, "gpt-4o", null);
    member.charge(HUNDRED, "gpt-4o-mini");
    assertThat(heard).containsExactly("with gpt-4o true", "alone gpt-4o", "alone gpt-4o-mini");
    assertThat(swarm.spent().calls()).isEqualTo(3);

    // a listener that knows nothing of acknowledgements hears such a charge as any other
    List<String> plain = new ArrayList<>();
    Budget.builder("agent b/1")
        .onCharge((usage, model) -> plain.add(model))
        .build()
        .charge(HUNDRED, "gpt-4o", commit);
    assertThat(plain).containsExactly("gpt-4o");
  }

  @Test
  void aTokenLimitRefusesOnceReachedSoTheOvershootIsAtMostOneCall() {
    Budget b = Budget.builder("tokens").maxTokens(250).build();
    b.check();
    b.charge(HUNDRED, "gpt-4o");
    b.check();
    b.charge(HUNDRED, "gpt-4o");
    b.check(); // 200 < 250: admitted, and this call takes it over
    b.charge(HUNDRED, "gpt-4o");
    assertThatThrownBy(b::check)
        .isInstanceOfSatisfying(
            BudgetExhaustedException.class,
            e -> {
              assertThat(e.limit()).isEqualTo(Budget.Limit.TOKENS);
              assertThat(e.used()).isEqualByComparingTo("300");
              assertThat(e.max()).isEqualByComparingTo("250");
            })
        .hasMessageContaining("300 of 250 tokens used");
  }

  @Test
  void costIsPricedByTheTableAndLimited() {
    PriceTable prices = PriceTable.empty().with("m", PriceTable.Price.of("2", "10", "0.5"));
    Budget b = Budget.builder("cost").maxCostUsd("0.01").prices(prices).build();
    // 1,000 input of which 400 cached, 500 output: 600*2 + 400*0.5 + 500*10 = 6,400 per million
    BigDecimal cost = b.charge(new Usage(1_000, 500, 400), "m-2026-01-01");
    assertThat(cost).isEqualByComparingTo("0.0064");
    b.check("m");
    b.charge(new Usage(1_000, 500, 400), "m");
    assertThat(b.spent().costUsd()).isEqualByComparingTo("0.0128");
    assertThatThrownBy(() -> b.check("m"))
        .isInstanceOfSatisfying(
            BudgetExhaustedException.class, e -> assertThat(e.limit()).isEqualTo(Budget.Limit.COST))
        .hasMessageContaining("$0.0128 of $0.01");
  }

  @Test
  void remainingWallTimeIsTheLeastLeftAlongTheChain() {
    HandClock clock = new HandClock();
    Budget swarm =
        Budget.builder("swarm").maxWallTime(Duration.ofSeconds(30)).nanoTime(clock::read).build();
    Budget agent =
        Budget.builder("agent")
            .maxWallTime(Duration.ofSeconds(10))
            .parent(swarm)
            .nanoTime(clock::read)
            .build();
    assertThat(Budget.builder("free").build().remainingWallTime()).isEmpty();
    swarm.check();
    clock.advance(Duration.ofSeconds(25));
    agent.check(); // the agent's 10 s start now; the swarm has 5 s left
    assertThat(agent.remainingWallTime()).contains(Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(7));
    assertThat(agent.remainingWallTime()).contains(Duration.ZERO);
  }

  @Test
  void wallTimeRunsFromTheFirstUseOnTheInjectedClock() {
    HandClock clock = new HandClock();
    Budget b =
        Budget.builder("wall").maxWallTime(Duration.ofSeconds(10)).nanoTime(clock::read).build();
    clock.advance(Duration.ofHours(1)); // not started yet: waiting for work costs nothing
    b.check();
    clock.advance(Duration.ofSeconds(9));
    b.check();
    assertThat(b.spent().elapsed()).isEqualTo(Duration.ofSeconds(9));
    clock.advance(Duration.ofMillis(1500));
    assertThatThrownBy(b::check)
        .isInstanceOfSatisfying(
            BudgetExhaustedException.class,
            e -> {
              assertThat(e.limit()).isEqualTo(Budget.Limit.WALL_TIME);
              assertThat(e.used()).isEqualByComparingTo("10.5");
              assertThat(e.max()).isEqualByComparingTo("10");
            })
        .hasMessageContaining("10.5 of 10 seconds used");
  }

  @Test
  void aChildChargesItsParentAndIsRefusedWhenTheParentIsExhausted() {
    Budget swarm = Budget.builder("swarm alpha").maxCalls(3).build();
    Budget a = Budget.builder("agent a").maxCalls(10).parent(swarm).build();
    Budget b = Budget.builder("agent b").maxCalls(10).parent(swarm).build();
    a.check();
    a.charge(HUNDRED, "gpt-4o");
    a.check();
    a.charge(HUNDRED, "gpt-4o");
    b.check();
    b.charge(HUNDRED, "gpt-4o");
    assertThat(swarm.spent().calls()).isEqualTo(3);
    assertThat(a.spent().calls()).isEqualTo(2);
    assertThat(b.spent().calls()).isEqualTo(1);
    assertThat(swarm.spent().costUsd())
        .isEqualByComparingTo(a.spent().costUsd().add(b.spent().costUsd()));
    assertThatThrownBy(b::check)
        .isInstanceOfSatisfying(
            BudgetExhaustedException.class, e -> assertThat(e.budget()).isEqualTo("swarm alpha"));
    assertThatThrownBy(a::check).hasMessageContaining("swarm alpha");
  }

  @Test
  void theOwnLimitIsReportedBeforeTheParents() {
    Budget swarm = Budget.builder("swarm").maxCalls(1).build();
    Budget a = Budget.builder("agent").maxCalls(1).parent(swarm).build();
    a.charge(HUNDRED, "gpt-4o");
    assertThatThrownBy(a::check)
        .isInstanceOfSatisfying(
            BudgetExhaustedException.class, e -> assertThat(e.budget()).isEqualTo("agent"));
  }

  @Test
  void anUnpricedModelIsFreeWithoutACostLimitAndRefusedUnderOne() {
    Budget free = Budget.builder("no cost limit").maxCalls(5).build();
    assertThatCode(() -> free.check("my-local-llama")).doesNotThrowAnyException();
    assertThat(free.charge(HUNDRED, "my-local-llama")).isEqualByComparingTo("0");
    assertThat(free.spent().calls()).isEqualTo(1);

    Budget swarm = Budget.builder("swarm").maxCostUsd("1.00").build();
    Budget agent = Budget.builder("agent").parent(swarm).build();
    assertThatThrownBy(() -> agent.check("my-local-llama"))
        .isInstanceOfSatisfying(
            BudgetExhaustedException.class,
            e -> {
              assertThat(e.budget()).isEqualTo("swarm");
              assertThat(e.limit()).isEqualTo(Budget.Limit.COST);
            })
        .hasMessageContaining("has no price")
        .hasMessageContaining("add the model's price");
    assertThatCode(() -> agent.check("gpt-4o")).doesNotThrowAnyException();
    // the provider answered with a model the table does not know: later calls are refused
    agent.charge(HUNDRED, "some-other-model");
    assertThatThrownBy(() -> agent.check("gpt-4o"))
        .isInstanceOf(BudgetExhaustedException.class)
        .hasMessageContaining("'some-other-model'")
        .hasMessageContaining("cannot be enforced");
  }

  @Test
  void concurrentChargesAreAllCounted() throws Exception {
    Budget swarm = Budget.builder("swarm").build();
    List<Thread> threads = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger failures = new AtomicInteger();
    for (int t = 0; t < 8; t++) {
      Budget agent = Budget.builder("agent " + t).parent(swarm).build();
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      go.await();
                      for (int i = 0; i < 1_000; i++) {
                        agent.check("gpt-4o-mini");
                        agent.charge(new Usage(10, 5, 0), "gpt-4o-mini");
                      }
                    } catch (Exception e) {
                      failures.incrementAndGet();
                    }
                  }));
    }
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failures).hasValue(0);
    Budget.Spent spent = swarm.spent();
    assertThat(spent.calls()).isEqualTo(8_000);
    assertThat(spent.totalTokens()).isEqualTo(120_000);
    // 80,000 input at 0.15 and 40,000 output at 0.60 per million
    assertThat(spent.costUsd()).isEqualByComparingTo("0.036");
  }

  @Test
  void buildersRefuseNonsense() {
    assertThatThrownBy(() -> Budget.builder(" ")).hasMessageContaining("needs a name");
    assertThatThrownBy(() -> Budget.builder("b").maxCalls(0)).hasMessageContaining("maxCalls");
    assertThatThrownBy(() -> Budget.builder("b").maxCostUsd("0"))
        .hasMessageContaining("more than 0");
    assertThatThrownBy(() -> Budget.builder("b").maxWallTime(Duration.ZERO))
        .hasMessageContaining("positive");
  }
}
