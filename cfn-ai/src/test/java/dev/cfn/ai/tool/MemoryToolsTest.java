package dev.cfn.ai.tool;

import static dev.cfn.ai.tool.ToolRegistryTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.core.AgentId;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryToolsTest {
  @TempDir Path dir;
  private SqliteMemoryStore store;
  private ToolRegistry registry;
  private ToolExecutor planner;
  private ToolExecutor coder;
  private ToolExecutor outsider;

  @BeforeEach
  void setUp() {
    store = SqliteMemoryStore.open(dir.resolve("memory.db"));
    registry = new ToolRegistry();
    BuiltinTools.builder().memory(store).registerIn(registry);
    planner = agent(AgentId.of("planner", "1"), "swarm-a", "shop");
    coder = agent(AgentId.of("coder", "2"), "swarm-a", "shop");
    outsider = agent(AgentId.of("outsider", "3"), "swarm-b", null);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private ToolExecutor agent(AgentId id, String swarm, String project) {
    return ToolExecutor.builder(registry, id)
        .swarm(swarm)
        .project(project)
        .permissions(ToolPermissions.of("memory_*"))
        .build();
  }

  private static ToolResult call(ToolExecutor who, String tool, String arguments) {
    return who.execute(new ToolCall("c", tool, json(arguments)));
  }

  private static JsonNode ok(ToolResult result) {
    assertThat(result.isError()).as(result.content()).isFalse();
    return json(result.content());
  }

  @Test
  void putThenGetReturnsTheEntryAsTheCallingAgentsOwn() {
    JsonNode stored =
        ok(
            call(
                planner,
                "memory_put",
                """
                {"namespace": "plans", "key": "release", "value": "build then deploy",
                 "tags": ["deploy"], "metadata": {"source": "planner"}, "ttl_seconds": 3600}
                """));
    assertThat(stored.get("level").asText()).isEqualTo("private");
    assertThat(stored.get("owner").asText()).isEqualTo("planner/1");
    assertThat(stored.has("expiresAt")).isTrue();
    assertThat(stored.has("value")).isFalse();

    JsonNode read =
        ok(call(planner, "memory_get", "{\"namespace\": \"plans\", \"key\": \"release\"}"));
    assertThat(read.get("value").asText()).isEqualTo("build then deploy");
    assertThat(read.get("tags")).isEqualTo(json("[\"deploy\"]"));
    assertThat(read.get("metadata")).isEqualTo(json("{\"source\": \"planner\"}"));
    assertThat(read.get("swarm").asText()).isEqualTo("swarm-a");
    assertThat(store.get(MemoryAccessor.operator(), "plans", "release").orElseThrow().owner())
        .isEqualTo("planner/1");
    assertThat(call(planner, "memory_get", "{\"namespace\": \"plans\", \"key\": \"none\"}"))
        .isEqualTo(ToolResult.text("no entry plans/none"));
  }

  @Test
  void privateEntriesAreRefusedToOtherAgents() {
    ok(call(planner, "memory_put", "{\"namespace\": \"n\", \"key\": \"k\", \"value\": \"mine\"}"));

    // another agent's private entry reads as absent: a denial would reveal that it exists
    ToolResult absent = call(coder, "memory_get", "{\"namespace\": \"n\", \"key\": \"k\"}");
    assertThat(absent).isEqualTo(ToolResult.text("no entry n/k"));
    assertThat(
            call(coder, "memory_put", "{\"namespace\": \"n\", \"key\": \"k\", \"value\": \"x\"}")
                .content())
        .startsWith("memory_put refused:");
    assertThat(call(coder, "memory_delete", "{\"namespace\": \"n\", \"key\": \"k\"}").content())
        .isEqualTo("no entry n/k");
    assertThat(ok(call(coder, "memory_search", "{\"query\": \"mine\"}"))).isEmpty();
    assertThat(ok(call(planner, "memory_search", "{\"query\": \"mine\"}"))).hasSize(1);
    assertThat(store.get(MemoryAccessor.operator(), "n", "k").orElseThrow().value())
        .isEqualTo("mine");
  }

  @Test
  void swarmEntriesAreSharedWithTheSwarmOnly() {
    ok(
        call(
            planner,
            "memory_put",
            "{\"namespace\": \"board\", \"key\": \"task\", \"value\": \"write tests\","
                + " \"level\": \"swarm\"}"));

    assertThat(
            ok(call(coder, "memory_get", "{\"namespace\": \"board\", \"key\": \"task\"}"))
                .get("value")
                .asText())
        .isEqualTo("write tests");
    JsonNode updated =
        ok(
            call(
                coder,
                "memory_put",
                "{\"namespace\": \"board\", \"key\": \"task\", \"value\": \"done\"}"));
    assertThat(updated.get("level").asText()).as("the level is kept").isEqualTo("swarm");
    assertThat(updated.get("owner").asText()).isEqualTo("planner/1");
    JsonNode hits =
        ok(call(coder, "memory_search", "{\"query\": \"done\", \"namespace\": \"board\"}"));
    assertThat(hits).hasSize(1);
    assertThat(hits.get(0).get("key").asText()).isEqualTo("task");

    // outside the swarm the entry reads and deletes as absent
    assertThat(call(outsider, "memory_get", "{\"namespace\": \"board\", \"key\": \"task\"}"))
        .isEqualTo(ToolResult.text("no entry board/task"));
    assertThat(ok(call(outsider, "memory_search", "{\"query\": \"done\"}"))).isEmpty();
    assertThat(call(outsider, "memory_delete", "{\"namespace\": \"board\", \"key\": \"task\"}"))
        .isEqualTo(ToolResult.text("no entry board/task"));
    assertThat(call(coder, "memory_delete", "{\"namespace\": \"board\", \"key\": \"task\"}"))
        .isEqualTo(ToolResult.text("deleted board/task"));
    assertThat(call(coder, "memory_delete", "{\"namespace\": \"board\", \"key\": \"task\"}"))
        .isEqualTo(ToolResult.text("no entry board/task"));
  }

  @Test
  void publicEntriesAreReadByAllAndWrittenByTheOwnerOnly() {
    ok(
        call(
            planner,
            "memory_put",
            "{\"namespace\": \"news\", \"key\": \"v1\", \"value\": \"released\", \"level\": \"public\"}"));
    assertThat(
            ok(call(outsider, "memory_get", "{\"namespace\": \"news\", \"key\": \"v1\"}"))
                .get("value")
                .asText())
        .isEqualTo("released");
    assertThat(
            call(
                    outsider,
                    "memory_put",
                    "{\"namespace\": \"news\", \"key\": \"v1\", \"value\": \"lies\"}")
                .content())
        .startsWith("memory_put refused:");
    assertThat(store.get(MemoryAccessor.operator(), "news", "v1").orElseThrow().value())
        .isEqualTo("released");
  }

  @Test
  void aSharedLevelTheAgentHasNoGroupForIsRefused() {
    ToolResult result =
        call(
            outsider,
            "memory_put",
            "{\"namespace\": \"n\", \"key\": \"p\", \"value\": \"v\", \"level\": \"project\"}");
    assertThat(result.isError()).isTrue();
    assertThat(result.content()).startsWith("memory_put cannot do that:");
  }

  @Test
  void argumentsOutsideTheSchemaNeverReachTheStore() {
    ToolResult result =
        call(
            planner,
            "memory_put",
            "{\"namespace\": \"n\", \"key\": \"k\", \"value\": \"v\", \"level\": \"secret\"}");
    assertThat(result.content()).contains("/level");
    assertThat(call(planner, "memory_search", "{\"query\": \"x\", \"limit\": 1000}").content())
        .contains("/limit");
    assertThat(store.get(MemoryAccessor.operator(), "n", "k")).isEmpty();
    assertThat(planner.sideEffecting("memory_get")).isFalse();
    assertThat(planner.sideEffecting("memory_put")).isTrue();
  }
}
