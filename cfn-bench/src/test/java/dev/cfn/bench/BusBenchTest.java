package dev.cfn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every bus scenario with tiny windows and checks what the report says, not how fast it was:
 * every paced message is counted, every scale reply arrives, the JSON carries the machine.
 */
class BusBenchTest {

  static final BusBench.Settings TINY =
      new BusBench.Settings(
          2_000,
          Duration.ofMillis(100),
          Duration.ofMillis(300),
          Duration.ofMillis(100),
          Duration.ofMillis(300),
          1024,
          10,
          4,
          10_000,
          true);

  @Test
  void everyScenarioReportsCountedFiguresAndTheMachine(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    Map<String, Object> result =
        new BusBench(TINY, new PrintStream(text, true, StandardCharsets.UTF_8)).run();
    Path file = dir.resolve("bus.json");
    BusBench.writeJson(result, file);

    JsonNode json = new ObjectMapper().readTree(file.toFile());
    assertThat(json.at("/machine/cores").asInt()).isPositive();
    assertThat(json.at("/machine/jdk").asText()).isNotBlank();
    // 2 cfn profiles + pekko, for one-way, request-reply and oversubscribed; 300 ms at 2,000
    // msg/s = 600 each; plus the forward chain on cfn and on LangChain4j (closed loop).
    assertThat(json.get("latency")).hasSize(11);
    for (JsonNode l : json.get("latency")) {
      if (l.get("rate").asInt() > 0) {
        assertThat(l.get("count").asLong()).isEqualTo(600);
      } else {
        assertThat(l.get("scenario").asText()).isEqualTo("forward-chain");
        assertThat(l.get("count").asLong()).isPositive();
      }
      assertThat(l.get("p50Us").asDouble()).isPositive();
      assertThat(l.get("p99Us").asDouble()).isGreaterThanOrEqualTo(l.get("p50Us").asDouble());
    }
    assertThat(json.findValuesAsText("system")).contains("langchain4j");
    assertThat(json.findValuesAsText("scenario")).contains("oversubscribed", "1->1 unbounded");
    assertThat(json.at("/oversubscribedCarrierPreemptions/default").isNumber()).isTrue();
    assertThat(json.at("/oversubscribedCarrierPreemptions/low-latency").isNumber()).isTrue();
    assertThat(json.get("throughput")).hasSize(5);
    for (JsonNode t : json.get("throughput")) {
      assertThat(t.get("messages").asLong()).isPositive();
    }
    assertThat(json.at("/scale/agents").asInt()).isEqualTo(10_000);
    assertThat(json.at("/scale/repliesCounted").asLong()).isEqualTo(10_000);
    assertThat(json.get("targets").size()).isGreaterThanOrEqualTo(8);
    assertThat(json.get("ratios").size()).isEqualTo(9);
    assertThat(text.toString(StandardCharsets.UTF_8)).contains("Targets").contains("pekko");
  }

  @Test
  void onlyRunsTheNamedScenarios() throws Exception {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    Map<String, Object> result =
        new BusBench(TINY, new PrintStream(text, true, StandardCharsets.UTF_8), Set.of("scale"))
            .run();
    assertThat((java.util.List<?>) result.get("latency")).isEmpty();
    assertThat((java.util.List<?>) result.get("throughput")).isEmpty();
    assertThat(result.get("scale")).isNotNull();
  }

  @Test
  void unknownScenarioIsNamedInTheError() {
    assertThatThrownBy(() -> new BusBench(TINY, System.out, Set.of("latency")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown scenario 'latency'")
        .hasMessageContaining("one-way");
  }
}
