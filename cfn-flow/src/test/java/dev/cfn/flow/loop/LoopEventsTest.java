package dev.cfn.flow.loop;

import static dev.cfn.flow.loop.LoopFixture.WAIT;
import static dev.cfn.flow.loop.LoopFixture.decision;
import static dev.cfn.flow.loop.LoopFixture.implemented;
import static dev.cfn.flow.loop.LoopFixture.system;
import static dev.cfn.flow.loop.LoopFixture.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentType;
import dev.cfn.flow.loop.LoopStep.Phase;
import dev.cfn.testkit.ModelServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A loop run publishes its transitions on {@code cfn.flow.loop.*}: the run's start and end, every
 * agent asked and every answer recorded, with confidence, verdict and decision.
 */
class LoopEventsTest {
  @TempDir Path dir;

  @Test
  void everyCallAnswerAndStatusChangeIsPublished() throws Exception {
    Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
    Queue<String> topics = new ConcurrentLinkedQueue<>();
    try (ModelServer server = ModelServer.start()) {
      server
          .script()
          .on(system("coder"))
          .reply(implemented("add v1", "0.5"), implemented("add v2", "0.8"));
      server.script().on(system("reviewer")).reply(verdict(true, "0.95"));
      server.script().on(system("tester")).reply(verdict(true, "0.95"));
      server.script().on(system("owner")).reply(decision("PROCEED", "ok"));
      try (LoopFixture p = LoopFixture.open(dir, server)) {
        p.runtime.register(
            AgentType.of(
                "observer",
                id ->
                    (m, ctx) -> {
                      if (m.payload() instanceof LoopEvent e) {
                        events.add(e);
                        topics.add(m.topic().type());
                      }
                    }));
        p.runtime.subscribe("cfn.flow.loop.#", AgentId.of("observer", "1"));
        LoopRecord r =
            p.runner
                .start("loop-1", LoopFixture.spec().build(), "Write add")
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(LoopStatus.ACCEPTED);
        // the last event is published in the commit that settles the run; wait for it to arrive
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (events.stream().noneMatch(e -> e.status() == LoopStatus.ACCEPTED)
            && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
      }
    }
    List<LoopEvent> all = List.copyOf(events);
    List<LoopEvent> runs = all.stream().filter(e -> e.kind() == LoopEvent.Kind.RUN).toList();
    assertThat(runs)
        .extracting(LoopEvent::status)
        .containsExactly(LoopStatus.RUNNING, LoopStatus.ACCEPTED);
    // coder twice (0.5 misses the gate), two validators once, the owner once
    List<LoopEvent> asked = all.stream().filter(e -> e.kind() == LoopEvent.Kind.ASKED).toList();
    List<LoopEvent> answered =
        all.stream().filter(e -> e.kind() == LoopEvent.Kind.ANSWERED).toList();
    assertThat(asked).hasSize(5);
    assertThat(answered).hasSize(5);
    assertThat(answered)
        .extracting(e -> e.iteration() + " " + e.phase() + " " + e.agent())
        .containsExactlyInAnyOrder(
            "1 IMPLEMENT coder",
            "2 IMPLEMENT coder",
            "2 VALIDATE reviewer",
            "2 VALIDATE tester",
            "2 DECIDE owner");
    LoopEvent first = answered.stream().filter(e -> e.iteration() == 1).findFirst().orElseThrow();
    assertThat(first.confidence()).isEqualByComparingTo("0.5");
    assertThat(
            answered.stream()
                .filter(e -> e.phase() == Phase.VALIDATE)
                .map(LoopEvent::detail)
                .distinct())
        .containsExactly("approve");
    assertThat(
            answered.stream()
                .filter(e -> e.phase() == Phase.DECIDE)
                .map(LoopEvent::detail)
                .findFirst())
        .contains("PROCEED");
    assertThat(topics)
        .contains(
            "cfn.flow.loop.run.running",
            "cfn.flow.loop.asked",
            "cfn.flow.loop.answered",
            "cfn.flow.loop.run.accepted");
  }
}
