package dev.cfn.flow.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.flow.swarm.Topology;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The supervisor against real {@code LlmAgent}s talking to cfn-testkit's scripted model server: the
 * planner's answers are scripted, everything else (the bus, the swarm's assignment, the budget, the
 * HTTP calls) is real.
 */
class SupervisorTest {
  private ModelServer server;
  private ModelProvider model;
  private AgentRuntime rt;
  private Swarm swarm;

  @BeforeEach
  void start() {
    server = ModelServer.start();
    model =
        OpenAiProvider.create(
            ProviderConfig.builder("test", ProviderConfig.Kind.OPENAI)
                .baseUrl(server.openAiBaseUrl())
                .apiKey("test-key")
                .model("test-model")
                .requestTimeout(Duration.ofSeconds(10))
                .build());
    rt = AgentRuntime.builder().carriers(2).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (swarm != null) {
      swarm.close();
    }
    rt.close();
    model.close();
    server.close();
  }

  private static AgentDefinition definition(String name, String capability, String prompt) {
    String text =
        "---\nname: "
            + name
            + "\ndescription: "
            + prompt
            + "\ntools: []\ncapabilities: ["
            + capability
            + "]\n---\n"
            + prompt
            + "\n";
    return DefinitionLoader.parse(text, Path.of(name + ".md")).definitions().getFirst();
  }

  /** A planner and two members (researcher, writer) in a mesh swarm sharing {@code budget}. */
  private Supervisor.Builder supervisor(Budget budget, List<SupervisorStep> seen) {
    swarm = Swarm.builder("team", rt).topology(Topology.MESH).budget(budget).build();
    AgentDefinition planner = definition("planner", "planning", "You plan the team's work.");
    rt.register(
        LlmAgent.builder(planner)
            .model(model)
            .tools(new ToolRegistry())
            .budget(swarm.memberBudget(AgentId.of("planner", "1")))
            .type("planner"));
    for (AgentDefinition d :
        List.of(
            definition("researcher", "research", "You research facts."),
            definition("writer", "writing", "You write summaries."))) {
      rt.register(
          LlmAgent.builder(d)
              .model(model)
              .tools(new ToolRegistry())
              .budgetPerAgent(swarm::memberBudget)
              .type(d.name()));
      List<String> caps = new ArrayList<>(d.capabilities());
      caps.add(d.name());
      swarm.join(AgentId.of(d.name(), "1"), d.type(), caps);
    }
    return Supervisor.builder(rt, swarm, AgentId.of("planner", "1"))
        .member("researcher", "finds facts")
        .member("writer", "writes the summary")
        .turnTimeout(Duration.ofSeconds(30))
        .listener(seen::add);
  }

  private List<RecordedRequest> plannerRequests() {
    return server.requests().stream().filter(r -> r.system().contains("You plan")).toList();
  }

  @Test
  void thePlannerDelegatesHearsBackAndFinishesAndAnInvalidPlanIsFedBack() {
    server
        .script()
        .on(Match.systemContains("You plan"))
        .reply(
            Reply.text("I think the researcher should go first."),
            Reply.text("{\"next\": \"researcher\", \"input\": \"Find one fact about queues\"}"),
            Reply.text(
                "```json\n{\"next\": \"writer\", \"input\": \"Summarize: queues keep order\"}\n```"),
            Reply.text("{\"finish\": \"Queues keep order.\"}"));
    server.script().on(Match.systemContains("You research")).reply(Reply.text("queues keep order"));
    server.script().on(Match.systemContains("You write")).reply(Reply.text("Queues keep order."));
    List<SupervisorStep> seen = new ArrayList<>();

    SupervisorOutcome o =
        supervisor(Budget.builder("swarm").maxCalls(20).build(), seen)
            .maxTurns(6)
            .build()
            .run("Explain queues in a sentence");

    assertThat(o.status()).isEqualTo(SupervisorOutcome.Status.FINISHED);
    assertThat(o.answer()).isEqualTo("Queues keep order.");
    assertThat(o.steps())
        .extracting(SupervisorStep::kind)
        .containsExactly(
            SupervisorStep.Kind.INVALID_PLAN,
            SupervisorStep.Kind.DELEGATED,
            SupervisorStep.Kind.DELEGATED,
            SupervisorStep.Kind.FINISHED);
    assertThat(o.invalidPlans()).isEqualTo(1);
    assertThat(seen).isEqualTo(o.steps());
    SupervisorStep research = o.steps().get(1);
    assertThat(research.agent()).isEqualTo("researcher/1");
    assertThat(research.output()).isEqualTo("queues keep order");
    assertThat(o.steps().get(2).agent()).isEqualTo("writer/1");

    List<RecordedRequest> asked = plannerRequests();
    assertThat(asked).hasSize(4);
    assertThat(asked.get(0).lastUserMessage())
        .contains("OBJECTIVE:\nExplain queues in a sentence")
        .contains("- researcher: finds facts")
        .contains("(none yet)");
    assertThat(asked.get(1).lastUserMessage())
        .contains("Your previous answer was not a valid plan: the answer is not one JSON object");
    assertThat(asked.get(2).lastUserMessage())
        .contains("1. researcher was given: Find one fact about queues")
        .contains("It answered: queues keep order")
        .doesNotContain("not a valid plan");
    assertThat(swarm.status().spent().calls()).as("4 planner and 2 member calls").isEqualTo(6);
  }

  @Test
  void aPlanNamingNoMemberOrWithExtraKeysIsRefusedWithTheReason() {
    assertThat(Plan.read("{\"next\": \"editor\", \"input\": \"x\"}", List.of("writer")))
        .isEqualTo(new Plan.Invalid("there is no member 'editor'; the members are writer"));
    assertThat(Plan.read("{\"finish\": \"x\", \"why\": 1}", List.of("writer")))
        .isInstanceOf(Plan.Invalid.class)
        .hasToString("Invalid[reason=unknown keys [why]; only next, input and finish are allowed]");
    assertThat(Plan.read("{\"finish\": \"a\", \"next\": \"writer\"}", List.of("writer")))
        .isInstanceOf(Plan.Invalid.class);
    assertThat(Plan.read("{\"next\": \"writer\", \"input\": \"  \"}", List.of("writer")))
        .isInstanceOf(Plan.Invalid.class);
    assertThat(Plan.read("{\"finish\": \"done\"} and more", List.of("writer")))
        .isInstanceOf(Plan.Invalid.class);
    assertThat(Plan.read("{\"next\": \"Writer\", \"input\": \"go\"}", List.of("writer")))
        .isEqualTo(new Plan.Next("writer", "go"));
  }

  @Test
  void theTurnBoundStopsAPlannerThatNeverFinishes() {
    server
        .script()
        .on(Match.systemContains("You plan"))
        .reply(Reply.text("{\"next\": \"researcher\", \"input\": \"more\"}"));
    server.script().on(Match.systemContains("You research")).reply(Reply.text("a fact"));

    SupervisorOutcome o =
        supervisor(Budget.builder("swarm").build(), new ArrayList<>())
            .maxTurns(3)
            .build()
            .run("Never done");

    assertThat(o.status()).isEqualTo(SupervisorOutcome.Status.TURNS_EXHAUSTED);
    assertThat(o.turns()).isEqualTo(3);
    assertThat(o.reason()).contains("no final answer after 3 turns");
    assertThat(plannerRequests()).hasSize(3);
  }

  @Test
  void theSwarmBudgetStopsTheRunAndNoCallGoesPastIt() {
    server
        .script()
        .on(Match.systemContains("You plan"))
        .reply(Reply.text("{\"next\": \"researcher\", \"input\": \"more\"}"));
    server.script().on(Match.systemContains("You research")).reply(Reply.text("a fact"));

    SupervisorOutcome o =
        supervisor(Budget.builder("swarm").maxCalls(3).build(), new ArrayList<>())
            .maxTurns(10)
            .build()
            .run("Spend it all");

    assertThat(o.status()).isEqualTo(SupervisorOutcome.Status.BUDGET_EXHAUSTED);
    assertThat(o.reason()).contains("exhausted");
    assertThat(server.requests()).as("the budget's 3 calls and no more").hasSize(3);
  }
}
