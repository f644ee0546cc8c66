package dev.cfn.flow.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.flow.graph.GraphRunner;
import dev.cfn.flow.graph.RunOutcome;
import dev.cfn.flow.graph.RunStatus;
import dev.cfn.flow.graph.TaskWorker;
import dev.cfn.flow.swarm.Assignment;
import dev.cfn.flow.swarm.Topology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GraphFileTest {
  static AgentDefinition definition(String name, String capabilities) {
    String text =
        "---\nname: "
            + name
            + "\ndescription: test\ntools: []\ncapabilities: "
            + capabilities
            + "\n---\nYou are "
            + name
            + ".\n";
    return DefinitionLoader.parse(text, Path.of(name + ".md")).definitions().getFirst();
  }

  static final List<AgentDefinition> AGENTS =
      List.of(
          definition("planner", "[planning]"),
          definition("searcher-b", "[research]"),
          definition("searcher-a", "[research, search]"));

  static final String FANOUT =
      """
      graph: fanout
      deadline: 1m
      state:
        topic: queues
      tasks:
        - id: plan
          agent: planner
          input: "Plan {{state.topic}}"
        - id: a
          capability: research
          after: plan
          input: "A of {{result.plan}}"
          timeout: 30s
          retry: {retries: 2, backoff: 10ms}
        - id: b
          capability: RESEARCH
          after: [plan]
          input: "B of {{ result.plan }}"
          writes: b-out
        - id: sum
          agent: planner
          after: [a, b]
          input: "{{result.a}} + {{result.b}} ({{state.b-out}}) {{state.missing}}."
      """;

  @Test
  void aFanOutFileBindsToDefinitionsAndRuns() throws Exception {
    GraphFile file = GraphFile.parse(FANOUT, "fanout.yaml");
    assertThat(file.name()).isEqualTo("fanout");
    assertThat(file.deadline()).isEqualTo(Duration.ofMinutes(1));
    assertThat(file.state()).containsEntry("topic", "queues");
    GraphFile.Bound bound = file.bind(AGENTS);
    assertThat(bound.agents())
        .containsEntry("plan", "planner")
        .as("the first definition by name offering it")
        .containsEntry("a", "searcher-a")
        .containsEntry("b", "searcher-a");
    assertThat(bound.definitions()).containsExactly("planner", "searcher-a");

    try (AgentRuntime rt = AgentRuntime.builder().carriers(2).build()) {
      for (String type : bound.definitions()) {
        rt.register(AgentType.of(type, id -> TaskWorker.agent((in, ctx) -> type + "(" + in + ")")));
      }
      try (GraphRunner runner = GraphRunner.builder(rt).graph(bound.graph()).build()) {
        RunOutcome o =
            runner.start("fanout", "r1", file.state()).outcome().get(30, TimeUnit.SECONDS);
        assertThat(o.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(o.result("a")).isEqualTo("searcher-a(A of planner(Plan queues))");
        assertThat(o.result("sum"))
            .isEqualTo(
                "planner(searcher-a(A of planner(Plan queues)) + searcher-a(B of planner(Plan"
                    + " queues)) (searcher-a(B of planner(Plan queues))) .)");
      }
    }
  }

  @Test
  void everyProblemOfAFileIsListedWithItsLineAndFix() {
    String text =
        """
        graph: bad
        colour: red
        tasks:
          - id: one
            agent: planner
            capability: research
          - id: two
            agent: planner
            after: [nowhere]
            timeout: soon
            retry: {retries: 500}
          - id: three
            agent: planner
            input: "{{results.one}}"
            size: 3
        """;
    assertThatThrownBy(() -> GraphFile.parse(text, "bad.yaml"))
        .isInstanceOfSatisfying(
            GraphFileException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "bad.yaml:2: error: unknown key 'colour' (fix: use only [deadline, graph,"
                            + " state, swarm, tasks])",
                        "bad.yaml:4: error: task 'one' needs one of agent and capability, not both"
                            + " (fix: agent: NAME for an agent definition, or capability: C for"
                            + " one that offers C)",
                        "bad.yaml:10: error: task 'two': timeout 'soon' is not a positive duration"
                            + " (fix: 250ms, 30s, 5m, 1h)",
                        "bad.yaml:11: error: task 'two': retries must be 0 to 100, was 500 (fix:"
                            + " retries: 2)",
                        "bad.yaml:15: error: unknown task key 'size' (fix: use only [after, agent,"
                            + " capability, id, input, retry, timeout, writes])",
                        "bad.yaml:14: error: task 'three': the input's {{results.one}} is not a"
                            + " placeholder (fix: {{state.KEY}} or {{result.TASK}})"));
  }

  @Test
  void aCycleAMissingDependencyAndAResultNotWaitedForAreRefused() {
    assertThatThrownBy(
            () ->
                GraphFile.parse(
                    "graph: g\ntasks:\n  - {id: a, agent: x, after: [c]}\n"
                        + "  - {id: b, agent: x, after: [a]}\n  - {id: c, agent: x, after: [b]}\n",
                    "cycle.yaml"))
        .hasMessage(
            "cycle.yaml: error: graph 'g' has a cycle: b -> c -> a -> b (fix: remove one of these"
                + " dependencies; to repeat a task use repeatUntil)");
    assertThatThrownBy(
            () ->
                GraphFile.parse(
                    "graph: g\ntasks:\n  - {id: a, agent: x, after: [zz]}\n", "missing.yaml"))
        .hasMessage(
            "missing.yaml:3: error: task 'a' comes after 'zz', which is not in the graph (fix:"
                + " one of [a])");
    assertThatThrownBy(
            () ->
                GraphFile.parse(
                    "graph: g\ntasks:\n  - {id: a, agent: x}\n"
                        + "  - {id: b, agent: x, input: '{{result.a}}'}\n",
                    "early.yaml"))
        .hasMessage(
            "early.yaml:4: error: task 'b' reads {{result.a}}, but does not come after 'a' (fix:"
                + " add it to after:, or read another task's result)");
    assertThatThrownBy(() -> GraphFile.parse("graph: g\ntasks: [\n", "broken.json"))
        .hasMessageStartingWith("broken.json:3: error: not valid YAML or JSON");
    assertThat(
            GraphFile.parse(
                    "{\"graph\": \"j\", \"tasks\": [{\"id\": \"a\", \"agent\": \"planner\"}]}",
                    "g.json")
                .taskIds())
        .containsExactly("a");
  }

  @Test
  void anUnknownAgentOrCapabilityIsRefusedWhenBoundWithWhatThereIs() {
    GraphFile file =
        GraphFile.parse(
            "graph: g\ntasks:\n  - {id: a, agent: writer}\n  - {id: b, capability: poetry}\n",
            "g.yaml");
    assertThatThrownBy(() -> file.bind(AGENTS))
        .isInstanceOfSatisfying(
            GraphFileException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "g.yaml:3: error: task 'a' goes to agent 'writer', and there is no agent"
                            + " definition of that name (fix: use one of planner, searcher-a,"
                            + " searcher-b, or add writer.md to the agents folder)",
                        "g.yaml:4: error: task 'b' needs capability 'poetry', which no agent"
                            + " definition offers (fix: use one of planning, research, search, or"
                            + " list it under capabilities: in an agent file)"));
  }

  @Test
  void aSwarmIsNamedByNameOrMappingAndBindsEveryDefinitionOfferingACapabilityAsAMember() {
    GraphFile short_ =
        GraphFile.parse(
            "graph: g\nswarm: team\ntasks:\n  - {id: a, capability: research}\n", "s.yaml");
    assertThat(short_.swarm())
        .contains(new GraphFile.SwarmSpec("team", "capability", Topology.AUTO));
    GraphFile file =
        GraphFile.parse(
            """
            graph: g
            swarm: {name: team, strategy: Round-Robin, topology: ring}
            tasks:
              - {id: plan, capability: planning}
              - {id: a, capability: research, after: plan}
            """,
            "s.yaml");
    assertThat(file.swarm())
        .contains(new GraphFile.SwarmSpec("team", "round-robin", Topology.RING));
    GraphFile.Bound bound = file.bind(AGENTS);
    assertThat(bound.members()).containsExactly("planner", "searcher-a", "searcher-b");
    assertThat(bound.definitions()).containsExactly("planner", "searcher-a", "searcher-b");
    assertThat(bound.agents()).containsEntry("a", "searcher-a");
    assertThat(GraphFile.parse(FANOUT, "f.yaml").bind(AGENTS).members()).isEmpty();
    assertThat(file.swarm().orElseThrow().assignment().apply("research"))
        .isEqualTo(Assignment.capability("research", Assignment.roundRobin()));
  }

  @Test
  void aBadSwarmIsRefusedWithItsLineAndFix() {
    assertThatThrownBy(
            () ->
                GraphFile.parse(
                    "graph: g\nswarm: {name: team, strategy: fastest, size: 3, topology: blob}\n"
                        + "tasks:\n  - {id: a, agent: planner}\n",
                    "s.yaml"))
        .isInstanceOf(GraphFileException.class)
        .satisfies(
            e ->
                assertThat(((GraphFileException) e).problems())
                    .containsExactly(
                        "s.yaml:2: error: unknown swarm strategy 'fastest' (fix: one of"
                            + " capability, least-loaded, round-robin, sticky)",
                        "s.yaml:2: error: unknown swarm key 'size' (fix: use only [name, strategy,"
                            + " topology])",
                        "s.yaml:2: error: unknown swarm topology 'blob' (fix: one of auto, mesh,"
                            + " hierarchical, star, ring)"));
    assertThatThrownBy(
            () ->
                GraphFile.parse(
                    "graph: g\nswarm: team\ntasks:\n  - {id: a, agent: planner}\n", "s.yaml"))
        .hasMessage(
            "s.yaml:4: error: task 'a' goes to agent 'planner', but the graph runs through swarm"
                + " 'team', whose members are picked by capability (fix: capability: C instead of"
                + " agent:, or remove swarm:)");
    assertThatThrownBy(
            () ->
                GraphFile.parse(
                    "graph: g\nswarm: {strategy: sticky}\ntasks:\n  - {id: a, capability: x}\n",
                    "s.yaml"))
        .hasMessageContaining("s.yaml:2: error: swarm: has no name:");
    assertThatThrownBy(
            () ->
                GraphFile.parse(
                    "graph: g\nswarm: [a, b]\ntasks:\n  - {id: a, capability: x}\n", "s.yaml"))
        .hasMessageContaining("s.yaml:2: error: swarm: is a name or a mapping");
  }
}
