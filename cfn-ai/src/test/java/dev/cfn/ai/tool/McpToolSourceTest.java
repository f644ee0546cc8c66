package dev.cfn.ai.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.ai.model.ToolSpec;
import dev.cfn.core.AgentId;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

class McpToolSourceTest {

  private static final AgentId AGENT = AgentId.of("coder", "1");

  static JsonNode json(String text) throws Exception {
    return ToolJson.MAPPER.readTree(text);
  }

  static ToolCall call(String name, String arguments) throws Exception {
    return new ToolCall("call-" + name, name, json(arguments));
  }

  /** Checks list, call, validation and permissions against one connected source. */
  static void roundTrip(McpToolSource source) throws Exception {
    assertThat(source.tools())
        .extracting(Tool::name)
        .containsExactly(
            "mcp__test__echo",
            "mcp__test__add",
            "mcp__test__calls",
            "mcp__test__fail",
            "mcp__test__weird_name_x");
    assertThat(source.skipped()).singleElement().asString().startsWith("broken:");
    Tool add = source.tools().get(1);
    assertThat(add.sideEffecting()).isFalse();
    assertThat(source.tools().get(0).sideEffecting()).isTrue();
    assertThat(add.spec().description()).isEqualTo("Adds two integers.");
    assertThat(add.spec().inputSchema().at("/properties/a/type").asText()).isEqualTo("integer");

    ToolRegistry registry = new ToolRegistry();
    source.registerIn(registry);
    ToolExecutor coder =
        ToolExecutor.builder(registry, AGENT)
            .permissions(
                ToolPermissions.of(
                    "mcp__test__echo",
                    "mcp__test__add",
                    "mcp__test__c*",
                    "mcp__test__fail",
                    "mcp__test__weird_name_x"))
            .build();

    assertThat(coder.execute(call("mcp__test__echo", "{\"text\": \"hi\"}")))
        .isEqualTo(ToolResult.text("echo: hi"));
    assertThat(coder.execute(call("mcp__test__add", "{\"a\": 2, \"b\": 40}")))
        .isEqualTo(ToolResult.text("42"));
    assertThat(coder.execute(call("mcp__test__weird_name_x", "{}")))
        .isEqualTo(ToolResult.text("weird ok"));
    ToolResult failed = coder.execute(call("mcp__test__fail", "{}"));
    assertThat(failed.isError()).isTrue();
    assertThat(failed.content()).isEqualTo("the fail tool failed, as it always does");

    // invalid arguments and broken JSON are refused before the server sees them
    ToolResult invalid = coder.execute(call("mcp__test__add", "{\"a\": \"two\"}"));
    assertThat(invalid.isError()).isTrue();
    assertThat(invalid.content()).contains("/a").contains("required property 'b'");
    ToolResult broken =
        coder.execute(
            new ToolCall(
                "c9", "mcp__test__echo", JsonNodeFactory.instance.textNode("{\"text\": ")));
    assertThat(broken.isError()).isTrue();
    assertThat(coder.execute(call("mcp__test__calls", "{}")))
        .as("the server handled echo, add, weird and fail only")
        .isEqualTo(ToolResult.text("4"));

    // another agent allowed only echo: offered echo only, refused add, which does not run
    ToolAudit audit = new ToolAudit();
    ToolExecutor reviewer =
        ToolExecutor.builder(registry, AgentId.of("reviewer", "1"))
            .permissions(ToolPermissions.of("mcp__test__echo"))
            .audit(audit)
            .build();
    assertThat(reviewer.specs()).extracting(ToolSpec::name).containsExactly("mcp__test__echo");
    ToolResult denied = reviewer.execute(call("mcp__test__add", "{\"a\": 1, \"b\": 1}"));
    assertThat(denied.isError()).isTrue();
    assertThat(denied.content()).startsWith("Permission denied");
    assertThat(audit.recent())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.tool()).isEqualTo("mcp__test__add");
              assertThat(e.outcome()).isEqualTo(ToolAudit.Outcome.DENIED);
            });
    assertThat(coder.execute(call("mcp__test__calls", "{}"))).isEqualTo(ToolResult.text("4"));
  }

  @Test
  void stdioServerInAChildJvmRoundTrip() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // other tests of this JVM may leave children of their own: only this server's are watched
    Set<Long> before =
        ProcessHandle.current().children().map(ProcessHandle::pid).collect(Collectors.toSet());
    McpToolSource source =
        McpToolSource.stdio(
                "test",
                java,
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                McpTestServer.class.getName())
            .requestTimeout(Duration.ofSeconds(30))
            .connect();
    ToolRegistry registry = new ToolRegistry();
    List<ProcessHandle> mine = List.of();
    try {
      roundTrip(source);
      source.registerIn(registry);
      assertThat(registry.tools()).hasSize(5);
      mine =
          ProcessHandle.current()
              .children()
              .filter(p -> !before.contains(p.pid()))
              .flatMap(p -> Stream.concat(Stream.of(p), p.descendants()))
              .toList();
      assertThat(mine).anyMatch(ProcessHandle::isAlive);
    } finally {
      source.close();
    }
    assertThat(registry.tools()).as("closing removes the source's tools").isEmpty();
    // the server's watcher (ParentWatch) exits within about a second of the server, and its zombie
    // is reaped by the JVM's orphan reaper
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (mine.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() - end < 0) {
      Thread.sleep(20);
    }
    assertThat(mine.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid))
        .as("the server process and its watcher ended")
        .isEmpty();
  }

  /** What the MCP SDK adds to every stdio server's environment on Unix (ServerParameters). */
  private static final Set<String> SDK_DEFAULT_ENV = Set.of("LOGNAME", "SHELL", "TERM", "USER");

  @Test
  void aStdioServerInheritsOnlyTheAllowListedEnvironmentPlusWhatEnvSets() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Set<String> allowed = new HashSet<>(McpToolSource.INHERITED_ENV);
    allowed.addAll(SDK_DEFAULT_ENV);
    allowed.add("CFN_MCP_GIVEN");
    try (McpToolSource source =
        McpToolSource.stdio(
                "envtest",
                java,
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                McpTestServer.class.getName(),
                "--env-tools")
            .env("CFN_MCP_GIVEN", "given-value")
            .requestTimeout(Duration.ofSeconds(30))
            .connect()) {
      ToolRegistry registry = new ToolRegistry();
      source.registerIn(registry);
      ToolExecutor executor =
          ToolExecutor.builder(registry, AGENT)
              .permissions(ToolPermissions.of("mcp__envtest__*"))
              .build();
      ToolResult listed = executor.execute(call("mcp__envtest__env_names", "{}"));
      assertThat(listed.isError()).isFalse();
      List<String> names = List.of(listed.content().split("\n"));

      assertThat(names).contains("CFN_MCP_GIVEN").isSubsetOf(allowed);
      if (System.getenv("PATH") != null) {
        assertThat(names).contains("PATH");
      }
      List<String> withheld =
          System.getenv().keySet().stream().filter(k -> !allowed.contains(k)).toList();
      assertThat(names)
          .as("the JVM's other variables are withheld")
          .doesNotContainAnyElementsOf(withheld);
      assertThat(executor.execute(call("mcp__envtest__env_value", "{\"name\": \"CFN_MCP_GIVEN\"}")))
          .isEqualTo(ToolResult.text("given-value"));
      // the ordinary tools still work over the isolated process
      assertThat(executor.execute(call("mcp__envtest__add", "{\"a\": 2, \"b\": 3}")))
          .isEqualTo(ToolResult.text("5"));
    }
  }

  @Test
  void theStdioProcessBuilderKeepsOnlyTheAllowList() {
    Map<String, String> parent = new HashMap<>();
    parent.put("PATH", "/usr/bin:/bin");
    parent.put("HOME", "/home/agent");
    parent.put("LANG", "C.UTF-8");
    parent.put("TZ", "UTC");
    parent.put("ANTHROPIC_API_KEY", "sk-ant-secret");
    parent.put("OPENAI_API_KEY", "sk-secret");
    parent.put("AWS_SECRET_ACCESS_KEY", "aws-secret");

    ProcessBuilder builder = McpToolSource.isolatedProcessBuilder(parent);

    assertThat(builder.environment())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("PATH", "/usr/bin:/bin", "HOME", "/home/agent", "LANG", "C.UTF-8", "TZ", "UTC"));
  }

  @Test
  void aServerThatDoesNotStartIsAClearError(@TempDir Path dir) {
    assertThatThrownBy(
            () ->
                McpToolSource.stdio("gone", dir.resolve("no-such-server").toString())
                    .initializationTimeout(Duration.ofSeconds(5))
                    .connect())
        .isInstanceOf(McpToolSource.McpConnectionException.class)
        .hasMessageContaining("MCP server 'gone'");
  }

  @Test
  void namesFollowClaudeCodesConventionAndFitTheModelsRule() {
    assertThat(McpToolSource.toolName("github", "create_issue"))
        .isEqualTo("mcp__github__create_issue");
    assertThat(McpToolSource.toolName("fs", "read.file/v2")).isEqualTo("mcp__fs__read_file_v2");
    String longName = McpToolSource.toolName("server", "x".repeat(100));
    assertThat(longName).hasSize(64).startsWith("mcp__server__xxx");
    assertThat(McpToolSource.toolName("server", "x".repeat(100) + "y")).isNotEqualTo(longName);
    assertThatThrownBy(() -> McpToolSource.stdio("a__b", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("single '_'");
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class StreamableHttp {
    private Tomcat tomcat;
    private McpSyncServer server;
    private URI endpoint;

    @BeforeAll
    void start(@TempDir Path base) throws Exception {
      var json = McpTestServer.json();
      HttpServletStreamableServerTransportProvider transport =
          HttpServletStreamableServerTransportProvider.builder()
              .jsonMapper(json)
              .mcpEndpoint("/mcp")
              .build();
      server =
          McpServer.sync(transport)
              .serverInfo("cfn-test-server", "1.0")
              .capabilities(McpTestServer.capabilities())
              .strictToolNameValidation(false)
              .validateToolInputs(false)
              .tools(McpTestServer.tools(json, new AtomicInteger()))
              .build();
      tomcat = new Tomcat();
      tomcat.setBaseDir(base.toString());
      tomcat.setHostname("127.0.0.1");
      tomcat.setPort(0);
      tomcat.getConnector().setProperty("address", "127.0.0.1");
      Context context = tomcat.addContext("", base.toString());
      Wrapper wrapper = Tomcat.addServlet(context, "mcp", transport);
      wrapper.setAsyncSupported(true);
      context.addServletMapping("/*", "mcp");
      tomcat.start();
      endpoint = URI.create("http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/mcp");
    }

    @AfterAll
    void stop() throws Exception {
      server.close();
      tomcat.stop();
      tomcat.destroy();
    }

    @Test
    void roundTripOverHttp() throws Exception {
      try (McpToolSource source =
          McpToolSource.http("test", endpoint)
              .header("Authorization", "Bearer not-a-real-token")
              .requestTimeout(Duration.ofSeconds(30))
              .connect()) {
        roundTrip(source);
      }
    }

    @Test
    void aWrongEndpointIsAClearError() {
      URI wrong = endpoint.resolve("/nothing-here");
      assertThatThrownBy(
              () ->
                  McpToolSource.http("test", wrong)
                      .initializationTimeout(Duration.ofSeconds(5))
                      .connect())
          .isInstanceOf(McpToolSource.McpConnectionException.class)
          .hasMessageContaining("MCP server 'test'");
    }
  }

  static List<String> names(List<Tool> tools) {
    return tools.stream().map(Tool::name).toList();
  }
}
