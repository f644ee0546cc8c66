package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.testkit.process.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGKILL while RELIABLE requests and sends from outside are in flight: the child ({@link
 * QueuedAppendChild}) is killed right after its 60th reply with about 140 messages in flight, once
 * with messages delivered while their appends are queued ({@code earlyDelivery}, see {@code
 * Journal.appendQueued}) and once delivered when durable, with requests that do not wait for their
 * appends. Then every request whose reply arrived was acknowledged with its effects, every send
 * that returned is handled (after recovery, if not before), and every handled message's effects
 * exist exactly once: no acknowledgement committed without its message, none was lost, none was
 * applied twice.
 */
class QueuedAppendCrashTest {
  static final int REQUESTS = 200;
  static final int KILL_AFTER = 60;

  @TempDir Path dir;

  @Test
  void aKillWithAppendsQueuedLosesNothingAcknowledgedAndAppliesEverythingOnce() throws Exception {
    killAndCheck("early");
  }

  @Test
  void aKillWithRequestsNotWaitingForTheirAppendsLosesNothingAndAppliesEverythingOnce()
      throws Exception {
    killAndCheck("durable");
  }

  private void killAndCheck(String delivery) throws Exception {
    Path file = dir.resolve("cfn.db");
    List<String> lines = new ArrayList<>();
    try (ChildJvm child =
        ChildJvm.start(
            QueuedAppendChild.class,
            file.toString(),
            Integer.toString(REQUESTS),
            Integer.toString(KILL_AFTER),
            delivery)) {
      try {
        // the child prints KILL after its last DONE and prints nothing more; EOF means it died
        child.awaitLine(
            line -> {
              lines.add(line);
              return line.equals("KILL");
            });
      } finally {
        // SIGKILL: no shutdown hook, no close
        assertThat(child.kill()).as("the child ended").isTrue();
      }
    }
    assertThat(lines)
        .as("the child's output")
        .contains("KILL")
        .noneMatch(l -> l.startsWith("FAILED"));
    List<long[]> done = new ArrayList<>(); // {request id, agent}
    List<long[]> stored = new ArrayList<>(); // {send id, agent}
    for (String line : lines) {
      String[] parts = line.split(" ");
      if (parts[0].equals("DONE")) {
        done.add(new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])});
      } else if (parts[0].equals("STORED")) {
        stored.add(new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])});
      }
    }
    assertThat(done).hasSize(KILL_AFTER);

    try (SqliteJournal j = SqliteJournal.builder(file).open()) {
      for (long[] d : done) {
        assertThat(j.isAcknowledged(d[0]))
            .as("request %d, answered before the kill", d[0])
            .isTrue();
        assertThat(j.state(QueuedAppendChild.agent((int) d[1]), "handled-" + d[0]))
            .as("the effects of request %d, answered before the kill", d[0])
            .contains("yes");
      }
    }
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .jvmMetrics(false)
            .journal(SqliteJournal.builder(file).open())
            .register(QueuedAppendChild.counter())
            .build()) {
      assertThat(rt.awaitDrained(Duration.ofSeconds(60))).as("recovered requests handled").isTrue();
    }
    try (SqliteJournal j = SqliteJournal.builder(file).open()) {
      // what stays pending is replies held for outside callers that are gone (to be claimed by
      // awaitReply); no request is left
      assertThat(j.recover())
          .as("nothing but unclaimed replies left pending")
          .allMatch(e -> e.envelope().isReply());
      long handled = 0;
      long counted = 0;
      for (int a = 0; a < QueuedAppendChild.AGENTS; a++) {
        String ns = QueuedAppendChild.agent(a).toString();
        handled += j.stateKeys(ns).stream().filter(k -> k.startsWith("handled-")).count();
        counted += Long.parseLong(j.state(ns, "n").orElse("0"));
      }
      assertThat(counted).as("each handled message applied its effects once").isEqualTo(handled);
      for (long[] s : stored) {
        assertThat(j.state(QueuedAppendChild.agent((int) s[1]), "handled-" + s[0]))
            .as("send %d, which returned before the kill, was handled", s[0])
            .contains("yes");
      }
      assertThat(handled)
          .as("every message handled at most once")
          .isGreaterThanOrEqualTo(KILL_AFTER + stored.size())
          .isLessThanOrEqualTo(REQUESTS);
    }
  }
}
