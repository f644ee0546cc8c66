package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Records the cassettes of {@code examples/research-fanout}, {@code examples/supervisor} and {@code
 * examples/swarm-review} through cfn-testkit's recording proxy (what {@code cfn testkit record}
 * runs), by running the examples' own commands against it. Off unless asked:
 *
 * <pre>
 * ./mvnw -q -B -pl cfn-cli -am verify -Dtest=ExampleCassettesRecorder \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dcfn.recordExamples=true
 * </pre>
 *
 * <p>The proxy forwards to {@code CFN_RECORD_UPSTREAM} (an OpenAI-compatible origin such as {@code
 * http://localhost:11434} for a local Ollama, model {@code CFN_RECORD_MODEL}, default {@code
 * qwen3:8b}) when it is set; otherwise to the testkit's scripted server, whose answers below were
 * written for the examples: the committed cassettes were made that way, they are not a model's
 * output.
 */
@EnabledIfSystemProperty(named = "cfn.recordExamples", matches = "true")
class ExampleCassettesRecorder {
  @TempDir Path tmp;

  static final Path EXAMPLES = Path.of(System.getProperty("user.dir")).resolveSibling("examples");

  /** The supervisor example's objective; the cassette answers exactly this. */
  static final String OBJECTIVE =
      "Explain to a newcomer, in a short paragraph, how a write-ahead log makes a message queue"
          + " durable.";

  private int cfn(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    System.out.println(out);
    System.out.println(err);
    return code;
  }

  private Path project(ModelServer proxy) throws Exception {
    String model = System.getenv().getOrDefault("CFN_RECORD_MODEL", "qwen3:8b");
    Files.createDirectories(tmp.resolve(".cfn"));
    Files.writeString(
        tmp.resolve(".cfn/providers.yaml"),
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + proxy.openAiBaseUrl()
            + "\n    api-key: local\n    model: "
            + model
            + "\n    request-timeout: 300s\n");
    return tmp;
  }

  private static ModelServer upstream(Map<Match, Reply[]> script) {
    ModelServer scripted = ModelServer.start();
    script.forEach((match, replies) -> scripted.script().on(match).reply(replies));
    return scripted;
  }

  private static URI origin(ModelServer scripted) {
    String real = System.getenv("CFN_RECORD_UPSTREAM");
    return real != null ? URI.create(real) : scripted.baseUrl();
  }

  @Test
  void researchFanout() throws Exception {
    Path cassette = EXAMPLES.resolve("research-fanout/cassette.json");
    try (ModelServer scripted =
            upstream(
                Map.of(
                    Match.systemContains("You plan research"),
                    new Reply[] {
                      Reply.text(
                          "1. What does a durable message queue promise once it accepts a"
                              + " message?\n"
                              + "2. How does a queue keep messages across a crash?\n"
                              + "3. Why can a consumer see the same message twice?")
                    },
                    Match.systemContains("You are a researcher")
                        .and(Match.lastUserMessageContains("question 1")),
                    new Reply[] {
                      Reply.text(
                          "Once a durable queue acknowledges a message, it keeps it until a"
                              + " consumer confirms it was handled, even if the broker restarts.")
                    },
                    Match.systemContains("You are a researcher")
                        .and(Match.lastUserMessageContains("question 2")),
                    new Reply[] {
                      Reply.text(
                          "It writes each message to disk, usually to an append-only log that is"
                              + " flushed before the send is acknowledged, and reads the log back"
                              + " when it starts.")
                    },
                    Match.systemContains("You are a researcher")
                        .and(Match.lastUserMessageContains("question 3")),
                    new Reply[] {
                      Reply.text(
                          "If a consumer crashes after handling a message but before confirming"
                              + " it, the queue delivers the message again, so handlers should be"
                              + " idempotent.")
                    },
                    Match.systemContains("You write summaries"),
                    new Reply[] {
                      Reply.text(
                          "A durable message queue keeps every message it has accepted until a"
                              + " consumer confirms it, even across a restart. It does so by"
                              + " writing each message to an append-only log on disk before"
                              + " acknowledging the send and reading that log back when it starts."
                              + " Because a consumer can crash between handling a message and"
                              + " confirming it, the same message may arrive twice, so handlers"
                              + " should be safe to repeat.")
                    }));
        ModelServer proxy = ModelServer.recording(origin(scripted), cassette)) {
      Path project = project(proxy);
      int code =
          cfn(
              "task",
              "submit",
              EXAMPLES.resolve("research-fanout/graph.yaml").toString(),
              "--agents",
              EXAMPLES.resolve("research-fanout/agents").toString(),
              "--project",
              project.toString(),
              "--journal",
              project.resolve("run/cfn.db").toString(),
              "--run",
              "record");
      assertThat(code).isZero();
    }
  }

  @Test
  void supervisor() throws Exception {
    Path cassette = EXAMPLES.resolve("supervisor/cassette.json");
    String facts =
        "1. A write-ahead log is a file the queue appends every message to before it says the"
            + " message was accepted.\n"
            + "2. The append is flushed to disk first, so a crash cannot lose an accepted"
            + " message.\n"
            + "3. On restart the queue reads the log back and delivers what was not yet"
            + " confirmed.";
    String paragraph =
        "Before a durable queue tells you it has your message, it writes the message at the end"
            + " of a file on disk, called a write-ahead log, and makes sure the write really"
            + " reached the disk. If the machine then crashes, nothing you were promised is lost."
            + " When the queue starts again, it reads the log and hands out every message nobody"
            + " has confirmed yet.";
    try (ModelServer scripted =
            upstream(
                Map.of(
                    Match.systemContains("You lead a small team"),
                    new Reply[] {
                      Reply.text(
                          "Sure! First I will ask the researcher for facts, then the writer will"
                              + " explain them."),
                      Reply.text(
                          "{\"next\": \"researcher\", \"input\": \"Give three facts about how a"
                              + " write-ahead log makes a message queue durable.\"}"),
                      Reply.text(
                          "{\"next\": \"writer\", \"input\": \"Explain for a newcomer, from"
                              + " these facts:\\n"
                              + facts.replace("\n", "\\n")
                              + "\"}"),
                      Reply.text("{\"finish\": \"" + paragraph + "\"}")
                    },
                    Match.systemContains("You are a researcher"),
                    new Reply[] {Reply.text(facts)},
                    Match.systemContains("You write for newcomers"),
                    new Reply[] {Reply.text(paragraph)}));
        ModelServer proxy = ModelServer.recording(origin(scripted), cassette)) {
      Path project = project(proxy);
      int code =
          cfn(
              "swarm",
              "run",
              OBJECTIVE,
              "--agents",
              EXAMPLES.resolve("supervisor/agents").toString(),
              "--project",
              project.toString(),
              "--max-turns",
              "6");
      assertThat(code).isZero();
    }
  }

  @Test
  void swarmReview() throws Exception {
    Path cassette = EXAMPLES.resolve("swarm-review/cassette.json");
    String first =
        "```python\n"
            + "def median(xs):\n"
            + "    \"\"\"Return the median of xs.\"\"\"\n"
            + "    s = sorted(xs)\n"
            + "    return s[len(s) // 2]\n"
            + "```";
    String revised =
        "```python\n"
            + "def median(values):\n"
            + "    \"\"\"Return the median of a non-empty list of numbers.\"\"\"\n"
            + "    ordered = sorted(values)\n"
            + "    middle = len(ordered) // 2\n"
            + "    if len(ordered) % 2 == 1:\n"
            + "        return ordered[middle]\n"
            + "    return (ordered[middle - 1] + ordered[middle]) / 2\n"
            + "```";
    try (ModelServer scripted =
            upstream(
                Map.of(
                    Match.systemContains("You write small Python functions")
                        .and(Match.lastUserMessageContains("Write this function")),
                    new Reply[] {Reply.text(first)},
                    Match.systemContains("You review code")
                        .and(Match.lastUserMessageContains("for correctness only")),
                    new Reply[] {
                      Reply.text(
                          "- For an even number of values it returns the upper middle value;"
                              + " median([1, 2, 3, 4]) gives 3, not 2.5.")
                    },
                    Match.systemContains("You review code")
                        .and(Match.lastUserMessageContains("for clarity only")),
                    new Reply[] {
                      Reply.text(
                          "- Name the parameter values rather than xs.\n"
                              + "- Say in the docstring that the list must not be empty.")
                    },
                    Match.systemContains("You write small Python functions")
                        .and(Match.lastUserMessageContains("Revise this function")),
                    new Reply[] {Reply.text(revised)}));
        ModelServer proxy = ModelServer.recording(origin(scripted), cassette)) {
      Path project = project(proxy);
      int code =
          cfn(
              "task",
              "submit",
              EXAMPLES.resolve("swarm-review/graph.yaml").toString(),
              "--agents",
              EXAMPLES.resolve("swarm-review/agents").toString(),
              "--project",
              project.toString(),
              "--journal",
              project.resolve("run/cfn.db").toString(),
              "--run",
              "record");
      assertThat(code).isZero();
    }
  }
}
