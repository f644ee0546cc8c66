package dev.cfn.ai;

import dev.cfn.ai.internal.os.Linux;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link ReliableAnswerCrashTest}: a runtime on a SQLite journal and call log
 * whose {@link LlmAgent}s answer RELIABLE requests sent from outside, the final answers recorded
 * with the requests' acknowledgements. It sends {@code args[2]} tasks ({@code "task <i>"}) at once
 * to {@value #AGENTS} agents, prints {@code DONE <i> <request id>} when a reply arrives (a reply
 * arrives only once the acknowledgement carrying it committed), and SIGKILLs itself ({@code
 * kill(2)} on its own pid) right after the {@code args[3]}-th reply: the kill lands at a known
 * point, with tasks in flight, however fast the machine is.
 *
 * <p>Arguments: the folder of {@code cfn.db} and {@code calls.db}, the model server's OpenAI base
 * URL, the number of tasks, the reply after which to die.
 */
final class ReliableAnswerChild {
  static final int AGENTS = 16;

  private ReliableAnswerChild() {}

  static SqliteJournal journal(Path dir) {
    return SqliteJournal.builder(dir.resolve("cfn.db"))
        .payloadType(Task.class, TaskResult.class, TaskFailed.class)
        .open();
  }

  static SqliteCallLogStore calls(Path dir) {
    return SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
  }

  static AgentType agents(String openAiBaseUrl, SqliteCallLogStore calls) {
    ProviderConfig config =
        ProviderConfig.builder("openai", ProviderConfig.Kind.OPENAI)
            .baseUrl(openAiBaseUrl)
            .apiKey("test-key")
            .model(AgentFixtures.MODEL)
            .requestTimeout(Duration.ofSeconds(30))
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    return LlmAgent.builder(AgentFixtures.definition("answerer", "[]"))
        .model(OpenAiProvider.create(config))
        .tools(new ToolRegistry())
        .callLog(CallLog.durable(calls))
        .type("answerer");
  }

  static AgentId agent(int task) {
    return AgentId.of("answerer", Integer.toString(task % AGENTS));
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int tasks = Integer.parseInt(args[2]);
    int killAfter = Integer.parseInt(args[3]);
    PrintStream out =
        new PrintStream(
            new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8.name());
    SqliteCallLogStore calls = calls(dir);
    AgentRuntime rt =
        AgentRuntime.builder()
            .jvmMetrics(false)
            .journal(journal(dir))
            .register(agents(args[1], calls))
            .build();
    out.println("OPEN");
    AtomicInteger replies = new AtomicInteger();
    for (int i = 0; i < tasks; i++) {
      int task = i;
      rt.request(
              Envelope.to(agent(task))
                  .delivery(DeliveryMode.RELIABLE)
                  .payload(new Task("task " + task)),
              Duration.ofMinutes(5))
          .whenComplete(
              (reply, error) -> {
                if (error != null || !(reply.payload() instanceof TaskResult)) {
                  out.println("FAILED " + task + " " + (error != null ? error : reply.payload()));
                  return;
                }
                synchronized (out) {
                  out.println("DONE " + task + " " + reply.correlationId());
                  if (replies.incrementAndGet() == killAfter) {
                    killSelf();
                  }
                }
              });
    }
    Thread.sleep(Duration.ofMinutes(5)); // the kill ends it
    out.println("NOT KILLED");
    System.exit(1);
  }

  /**
   * SIGKILLs this process with {@code kill(2)} itself, not a {@code kill} command: a command would
   * outlive this process as an orphan, re-parented to the test JVM when that JVM is a child
   * subreaper (as cfn's process agents make it), where other tests would see it as a live child.
   */
  private static void killSelf() {
    try {
      Linux.kill(ProcessHandle.current().pid(), Linux.SIGKILL);
    } catch (Exception | LinkageError e) {
      // not Linux: end without shutdown hooks, as a kill would
    }
    Runtime.getRuntime().halt(137);
  }
}
