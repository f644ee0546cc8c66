package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn mcp serve} as Claude Code starts it: a child process speaking raw JSON-RPC on its
 * standard input and output. Every line it writes on standard output must be a protocol frame, even
 * with {@code -v} logging at INFO; closing its input ends it with status 0.
 */
class McpServeCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path home;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void stdoutCarriesOnlyProtocolFramesAndClosingTheInputEndsIt() throws Exception {
    Files.createDirectories(home.resolve(".claude/agents"));
    Files.writeString(
        home.resolve(".claude/agents/helper.md"),
        "---\nname: helper\ndescription: Helps\nmodel: gpt-4o-mini\n---\nYou help.\n");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path stderr = home.resolve("stderr.txt");
    Process p =
        new ProcessBuilder(
                java,
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "mcp",
                "serve",
                "-v",
                "--home",
                home.toString())
            .redirectError(stderr.toFile())
            .start();
    List<String> frames = new ArrayList<>();
    try (OutputStream in = p.getOutputStream();
        BufferedReader out =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      send(
          in,
          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
              + "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
      frames.add(out.readLine());
      send(in, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
      send(in, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
      frames.add(out.readLine());
      send(
          in,
          "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
              + "\"agents_list\",\"arguments\":{}}}");
      frames.add(out.readLine());
      send(
          in,
          "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
              + "\"memory_put\",\"arguments\":{\"key\":\"k\",\"value\":\"v\"}}}");
      frames.add(out.readLine());
      in.close(); // the client goes away
      String line;
      while ((line = out.readLine()) != null) {
        frames.add(line);
      }
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the server ends when its input does").isTrue();
    assertThat(p.exitValue()).as(Files.readString(stderr)).isZero();
    for (String frame : frames) {
      JsonNode node = JSON.readTree(frame);
      assertThat(node.get("jsonrpc").asText()).as(frame).isEqualTo("2.0");
    }
    JsonNode init = JSON.readTree(frames.get(0));
    assertThat(init.at("/result/serverInfo/name").asText()).isEqualTo("cfn");
    assertThat(JSON.readTree(frames.get(1)).at("/result/tools")).hasSize(7);
    JsonNode listed = JSON.readTree(frames.get(2)).at("/result");
    assertThat(listed.get("isError").asBoolean()).isFalse();
    assertThat(JSON.readTree(listed.at("/content/0/text").asText()).at("/agents/0/name").asText())
        .isEqualTo("helper");
    JsonNode denied = JSON.readTree(frames.get(3)).at("/result");
    assertThat(denied.get("isError").asBoolean()).isTrue();
    assertThat(denied.at("/content/0/text").asText()).contains("--allow memory-write");
    assertThat(Files.exists(home.resolve(".cfn/memory.db")))
        .as("a denied write creates no memory file")
        .isFalse();
    assertThat(Files.readString(stderr)).contains("INFO").contains("cfn MCP server on stdio");
  }

  private static void send(OutputStream in, String frame) throws Exception {
    in.write((frame + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }
}
