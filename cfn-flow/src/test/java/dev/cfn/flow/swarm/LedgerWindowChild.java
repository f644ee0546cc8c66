package dev.cfn.flow.swarm;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.Task;
import dev.cfn.ai.TaskFailed;
import dev.cfn.ai.TaskResult;
import dev.cfn.ai.budget.Budget;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.Envelope;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.journal.FaultyJournal;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The child JVM of {@link LedgerCrashWindowTest}: the node of {@link LedgerCrashChild} (durable
 * swarm {@code team}, LLM member {@code worker/1} on an instant model, SQLite journal and call log
 * in {@code args[0]}), which SIGKILLs itself at the point {@code args[1]} names, after its worker's
 * one model call answered:
 *
 * <ul>
 *   <li>{@code before-ack}: a RELIABLE request without a key (its answer recorded with the
 *       acknowledgement, the charge riding that commit), killed as the acknowledgement is about to
 *       be committed: the answer is in memory, neither it nor its charge is durable;
 *   <li>{@code after-ack}: the same, killed just after that commit, before the ledger applied the
 *       charge;
 *   <li>{@code before-record}: a task submitted with an idempotency key (its answer recorded in the
 *       call log), killed as the call log is about to record the answer: the charge is journaled,
 *       the record is not.
 * </ul>
 *
 * <p>Before the kill it prints {@code CALLED N}, the model calls it made.
 */
public final class LedgerWindowChild {
  private LedgerWindowChild() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Path dir = Path.of(args[0]);
    String point = args[1];
    LedgerCrashChild.InstantModel model = new LedgerCrashChild.InstantModel();
    FaultyJournal journal =
        FaultyJournal.wrapping(
            SqliteJournal.builder(dir.resolve("journal.db"))
                .payloadType(Task.class, TaskResult.class, TaskFailed.class)
                .open());
    Runnable kill =
        () -> {
          out.println("CALLED " + model.calls.get());
          killSelf();
        };
    if (point.equals("before-ack")) {
      journal.onCommit(
          messages -> {
            if (carriesTask(messages)) {
              kill.run();
            }
          });
    } else if (point.equals("after-ack")) {
      journal.onApplied(
          messages -> {
            if (carriesTask(messages)) {
              kill.run();
            }
          });
    }
    SqliteCallLogStore calls =
        SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
    CallLog durable = CallLog.durable(calls);
    CallLog log =
        new CallLog() {
          @Override
          public Optional<String> find(String key) {
            return durable.find(key);
          }

          @Override
          public void record(String key, String resultJson) {
            if (point.equals("before-record")) {
              kill.run();
            }
            durable.record(key, resultJson);
          }
        };
    AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).carriers(2).journal(journal).build();
    Budget budget = Budget.builder("swarm team").maxCalls(10).build();
    Swarm swarm =
        Swarm.builder("team", rt).topology(Topology.RING).budget(budget).durable(journal).build();
    rt.register(
        LlmAgent.builder(LedgerCrashChild.worker())
            .model(model)
            .callLog(log)
            .budgetPerAgent(swarm::memberBudget)
            .type("worker"));
    rt.register(new Members().type());
    swarm.join(AgentId.of("worker", "1"), "worker", List.of());
    Members.join(swarm, 0, 4);
    if (point.equals("before-record")) {
      swarm
          .submit(new Task("do k1"), Assignment.capability("worker"), Duration.ofSeconds(60), "k1")
          .get(90, TimeUnit.SECONDS);
    } else {
      LedgerCrashChild.askReliably(rt, "answer once");
    }
    throw new IllegalStateException("the task was answered: no kill at " + point);
  }

  private static boolean carriesTask(List<Envelope> messages) {
    return messages.stream().anyMatch(m -> m.payload() instanceof Task);
  }

  private static void killSelf() {
    try {
      new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
          .inheritIO()
          .start()
          .waitFor();
      Thread.sleep(60_000); // the signal is on its way
    } catch (Exception e) {
      // halted below
    }
    Runtime.getRuntime().halt(3);
  }
}
