package dev.cfn.flow.loop;

import static dev.cfn.flow.loop.LoopFixture.decision;
import static dev.cfn.flow.loop.LoopFixture.implemented;
import static dev.cfn.flow.loop.LoopFixture.system;
import static dev.cfn.flow.loop.LoopFixture.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CFN Loop in a child JVM is killed with SIGKILL in the middle of its Loop 3 iterations, then a
 * second child resumes it on the same journal and call log: the run completes with every step
 * recorded once, and the model server saw at most one request more than the run has steps (the
 * model call in flight at the kill, whose record had not committed: the call log's window).
 */
class LoopResumeAfterKillTest {
  @TempDir Path dir;

  private String runChild(ModelServer server, String mode, long killAfterRequests)
      throws Exception {
    AtomicReference<String> done = new AtomicReference<>();
    try (ChildJvm child =
        ChildJvm.of(LoopCrashChild.class, dir.toString(), server.openAiBaseUrl(), mode)
            .errorTo(dir.resolve("child-" + mode + ".err"))
            .start()) {
      Thread reader =
          child.readInBackground(
              line -> {
                if (line.startsWith("DONE ")) {
                  done.set(line.substring(5));
                }
              });
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline
            && child.isAlive()
            && (killAfterRequests == 0 || server.received() < killAfterRequests)) {
          Thread.sleep(5);
        }
        if (killAfterRequests == 0) {
          assertThat(child.waitFor(Duration.ofSeconds(120))).as("the resumed child ends").isTrue();
        } else {
          assertThat(child.isAlive()).as("the child is mid-run when killed").isTrue();
        }
      } finally {
        child.kill(); // SIGKILL
        reader.join(10_000);
      }
    }
    return done.get();
  }

  @Test
  void aLoopKilledMidRunResumesWhereItStoppedWithoutRepeatingRecordedModelCalls() throws Exception {
    try (ModelServer server = ModelServer.start()) {
      Duration slow = Duration.ofMillis(150); // so that the kill lands while a call is under way
      server
          .script()
          .on(system("coder"))
          .reply(
              implemented("add v1", "0.5").after(slow),
              implemented("add v2", "0.5").after(slow),
              implemented("add v3", "0.5").after(slow),
              implemented("add v4", "0.5").after(slow),
              implemented("add v5", "0.5").after(slow),
              implemented("add v6", "0.9").after(slow));
      server.script().on(system("reviewer")).reply(verdict(true, "0.95"));
      server.script().on(system("tester")).reply(verdict(true, "0.95"));
      server.script().on(system("owner")).reply(decision("PROCEED", "ok"));

      assertThat(runChild(server, "start", 3)).as("killed before it finished").isNull();
      long beforeResume = server.received();
      assertThat(runChild(server, "resume", 0)).isEqualTo("ACCEPTED");

      try (LoopFixture p = LoopFixture.open(dir, server)) {
        LoopRecord r = p.runner.record("loop-1").orElseThrow();
        assertThat(r.status()).isEqualTo(LoopStatus.ACCEPTED);
        long distinct =
            r.steps().stream()
                .map(s -> s.iteration() + "." + s.phase() + "." + s.index())
                .distinct()
                .count();
        assertThat(distinct).as("every step recorded once").isEqualTo(r.steps().size());
        assertThat(server.received())
            .as("model requests: one per step, plus at most the one in flight at the kill")
            .isBetween((long) r.steps().size(), (long) r.steps().size() + 1);
        assertThat(beforeResume).isLessThan(r.steps().size());
      }
    }
  }
}
