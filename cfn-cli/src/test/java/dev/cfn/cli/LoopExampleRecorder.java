package dev.cfn.cli;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Records {@code examples/cfn-loop/cassette.json}: runs the example's loop through a recording
 * proxy in front of a scripted test model server, so the cassette holds exactly the requests the
 * example makes and answers that tell a story through all three loops (a confidence below the gate,
 * a rejected review, consensus, the owner's DEFER with a follow-up). Run it again after changing
 * the example's agents or the loop's prompts:
 *
 * <pre>
 * ./mvnw -q -pl cfn-cli -am test-compile -Dspotbugs.skip -Dspotless.check.skip=true
 * java -cp "$(cat cfn-cli/target/test-classpath.txt)" dev.cfn.cli.LoopExampleRecorder
 * </pre>
 *
 * (or run its main from an IDE, in the project root).
 */
public final class LoopExampleRecorder {
  private LoopExampleRecorder() {}

  static final String TASK =
      "Write a Java method `static boolean isPrime(int n)` that says whether n is a prime number.";

  static final String V1 =
      "static boolean isPrime(int n) {\n  for (int i = 2; i < n; i++) if (n % i == 0) return false;\n"
          + "  return true;\n}";
  static final String V2 =
      "/** Whether n is prime. */\nstatic boolean isPrime(int n) {\n  if (n < 2) return false;\n"
          + "  for (int i = 2; i * i <= n; i++) if (n % i == 0) return false;\n  return true;\n}";
  static final String V3 =
      "/** Whether n is prime; false for n < 2. */\nstatic boolean isPrime(int n) {\n"
          + "  if (n < 2) return false;\n  if (n % 2 == 0) return n == 2;\n"
          + "  for (int i = 3; i <= n / i; i += 2) if (n % i == 0) return false;\n"
          + "  return true;\n}";

  /** The scripted answers of the example's agents, by agent and iteration. */
  static void script(ModelServer server) {
    server
        .script()
        .on(agent("careful Java developer").and(iteration("(iteration 1:")))
        .reply(implemented(V1, "0.6"))
        .on(agent("careful Java developer").and(iteration("(iteration 2:")))
        .reply(implemented(V2, "0.85"))
        .on(agent("careful Java developer"))
        .reply(implemented(V3, "0.93"))
        .on(agent("strict code reviewer").and(iteration("(iteration 2,")))
        .reply(
            verdict(
                "reject",
                "0.9",
                "i * i overflows for n near Integer.MAX_VALUE (2147483647 loops forever or"
                    + " misjudges); compare i <= n / i instead"))
        .on(agent("strict code reviewer"))
        .reply(verdict("approve", "0.93"))
        .on(agent("You are a tester"))
        .reply(verdict("approve", "0.95"))
        .on(agent("You are the product owner"))
        .reply(
            Reply.text(
                "{\"decision\": \"DEFER\", \"reason\": \"correct on every int; speed can wait\","
                    + " \"followUps\": [\"add a benchmark for large primes\"]}"));
  }

  private static Match agent(String systemText) {
    return Match.systemContains(systemText);
  }

  private static Match iteration(String marker) {
    return Match.lastUserMessageContains(marker);
  }

  private static Reply implemented(String code, String confidence) {
    return Reply.text(
        "{\"result\": \""
            + code.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
            + "\", \"confidence\": "
            + confidence
            + "}");
  }

  private static Reply verdict(String verdict, String confidence, String... findings) {
    StringBuilder f = new StringBuilder();
    for (String s : findings) {
      f.append(f.isEmpty() ? "" : ", ").append('"').append(s).append('"');
    }
    return Reply.text(
        "{\"verdict\": \""
            + verdict
            + "\", \"confidence\": "
            + confidence
            + ", \"findings\": ["
            + f
            + "]}");
  }

  public static void main(String[] args) throws Exception {
    Path example = Path.of("examples", "cfn-loop");
    Path cassette = example.resolve("cassette.json");
    Path tmp = Files.createTempDirectory("cfn-loop-record");
    try (ModelServer upstream = ModelServer.start();
        ModelServer recorder = ModelServer.recording(upstream.baseUrl(), cassette)) {
      script(upstream);
      // the example's providers file may read LOCAL_BASE_URL only when the user allows it
      Files.writeString(
          tmp.resolve("trust.yaml"), "allow-env:\n  - LOCAL_BASE_URL\n  - LOCAL_MODEL\n");
      RunCommand.environment =
          Map.of(
              "LOCAL_BASE_URL", recorder.openAiBaseUrl(),
              "CFN_CONFIG_DIR", tmp.toString(),
              "CFN_TRUST_HOSTS", recorder.baseUrl().getAuthority());
      var cl = Main.commandLine();
      cl.setOut(new PrintWriter(System.out, true));
      cl.setErr(new PrintWriter(System.err, true));
      int code =
          cl.execute(
              "loop",
              "run",
              "--project",
              example.toString(),
              "--agents",
              example.resolve("agents").toString(),
              "--journal",
              tmp.resolve("cfn.db").toString(),
              "--calls",
              tmp.resolve("calls.db").toString(),
              "--id",
              "is-prime",
              "--implementer",
              "coder",
              "--validator",
              "reviewer",
              "--validator",
              "tester",
              "--owner",
              "product-owner",
              TASK);
      System.out.println("exit " + code + "; cassette: " + cassette.toAbsolutePath());
    }
  }
}
