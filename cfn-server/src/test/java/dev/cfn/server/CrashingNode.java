package dev.cfn.server;

import dev.cfn.ai.model.ModelConfig;
import dev.cfn.core.AgentType;
import dev.cfn.core.RetryPolicy;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * A node in a JVM of its own, for {@link NodeCrashTest} to SIGKILL: {@code HOME MODEL_BASE_URL
 * MODE}. It serves plain HTTP on an ephemeral port of 127.0.0.1 over {@code HOME}, its model
 * provider is the test's model server, its retry policy the runtime's default (as {@code cfn serve}
 * runs), and it prints {@code URL http://...} once it answers.
 *
 * <p>Mode {@code hold} holds every CFN Loop run at its very start: the agent type {@code cfn-loop}
 * (the runs' coordinators, which the loop runner then does not register) prints {@code HELD RUN}
 * when a run's start message reaches it and never returns, so the start is in the journal and the
 * coordinator has committed nothing: the state a crash right after the node's 201 leaves. Mode
 * {@code serve} is a plain node.
 */
final class CrashingNode {
  private CrashingNode() {}

  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]);
    String yaml =
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + args[1]
            + "\n    api-key: k\n    model: test-model\n";
    CfnServer.Builder b =
        CfnServer.builder(home)
            .port(0)
            .insecureHttp(true)
            .retryPolicy(RetryPolicy.DEFAULT)
            .rateLimit(10_000, 10_000)
            .models(() -> ModelConfig.parse(yaml, "test", Map.of()));
    if (args[2].equals("hold")) {
      b.reservedAgentType(
          AgentType.builder(
                  "cfn-loop",
                  id ->
                      (m, ctx) -> {
                        System.out.println("HELD " + id.key());
                        System.out.flush();
                        while (true) {
                          LockSupport.park(); // until the test kills this JVM
                        }
                      })
              .blocking()
              .build());
    }
    CfnServer server = b.start();
    System.out.println("URL " + server.url());
    System.out.flush();
    while (true) {
      LockSupport.park(); // until killed
    }
  }
}
