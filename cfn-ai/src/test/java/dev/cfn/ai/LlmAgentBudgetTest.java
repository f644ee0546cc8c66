package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.WAIT;
import static dev.cfn.ai.AgentFixtures.add;
import static dev.cfn.ai.AgentFixtures.definition;
import static dev.cfn.ai.AgentFixtures.eventually;
import static dev.cfn.ai.AgentFixtures.provider;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Budgets in the agent loop: checked before every model call, an exhausted budget stops the agent
 * within one call, publishes its event, and a swarm budget is shared by its agents.
 */
class LlmAgentBudgetTest {
  private ModelServer server;
  private AgentRuntime rt;
  private final ToolRegistry registry = new ToolRegistry();
  private final AgentFixtures.Inbox events = new AgentFixtures.Inbox();

  @BeforeEach
  void start() {
    server = ModelServer.start();
    rt = AgentFixtures.runtime();
    registry.register(add());
    rt.register(events.type("watcher"));
    rt.subscribe("cfn.budget.#", "watcher");
  }

  @AfterEach
  void stop() {
    rt.close();
    server.close();
  }

  private Object ask(AgentId agent, Object task) {
    return rt.request(agent, task, WAIT).join().payload();
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void anExhaustedCallBudgetStopsTheAgentWithinOneCall(ProviderConfig.Kind kind) throws Exception {
    server.script().on(Match.any()).reply(Reply.toolCall("add", "{\"a\":1,\"b\":2}"));
    AgentId coder = AgentId.of("coder", "1");
    try (ModelProvider model = provider(server, kind)) {
      rt.register(
          LlmAgent.builder(definition("coder", "[add]"))
              .model(model)
              .tools(registry)
              .budgetPerAgent(id -> Budget.builder("agent " + id).maxCalls(2).build())
              .type("coder"));

      Object answer = ask(coder, new Task("Add numbers until told to stop"));

      assertThat(answer)
          .isInstanceOfSatisfying(
              TaskFailed.class,
              f -> {
                assertThat(f.kind()).isEqualTo(TaskFailed.Kind.BUDGET_EXHAUSTED);
                assertThat(f.reason())
                    .contains("budget 'agent coder/1' is exhausted")
                    .contains("2 of 2 calls used");
              });
      assertThat(server.requests()).as("the call after the limit is never sent").hasSize(2);
      assertThat(events.next())
          .isInstanceOfSatisfying(
              BudgetExhausted.class,
              e -> {
                assertThat(e.agent()).isEqualTo(coder);
                assertThat(e.budget()).isEqualTo("agent coder/1");
                assertThat(e.limit()).isEqualTo(Budget.Limit.CALLS);
                assertThat(e.used()).isEqualByComparingTo("2");
                assertThat(e.max()).isEqualByComparingTo("2");
              });
      eventually(() -> rt.lookup(coder).isEmpty(), "the agent stopped itself");

      // a new message activates the agent again; its budget is kept per agent id and refuses
      assertThat(ask(coder, new Task("Once more")))
          .isInstanceOfSatisfying(
              TaskFailed.class,
              f -> assertThat(f.kind()).isEqualTo(TaskFailed.Kind.BUDGET_EXHAUSTED));
      assertThat(server.requests()).hasSize(2);
    }
  }

  @Test
  void aTokenBudgetOvershootsByAtMostTheCallThatCrossedIt() throws Exception {
    server
        .script()
        .on(Match.any())
        .reply(Reply.toolCall("add", "{\"a\":1,\"b\":2}").withUsage(80, 20, 0));
    try (ModelProvider model = provider(server, ProviderConfig.Kind.ANTHROPIC)) {
      rt.register(
          LlmAgent.builder(definition("coder", "[add]"))
              .model(model)
              .tools(registry)
              .budget(Budget.builder("type coder").maxTokens(250).build())
              .type("coder"));

      Object answer = ask(AgentId.of("coder", "1"), new Task("Add"));

      assertThat(answer)
          .isInstanceOfSatisfying(
              TaskFailed.class, f -> assertThat(f.reason()).contains("300 of 250 tokens used"));
    }
    assertThat(server.requests()).hasSize(3);
    assertThat(events.next())
        .isInstanceOfSatisfying(
            BudgetExhausted.class, e -> assertThat(e.limit()).isEqualTo(Budget.Limit.TOKENS));
  }

  @Test
  void aSwarmBudgetIsSharedByItsAgents() throws Exception {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("3"));
    server.script().on(Match.any()).reply(Reply.toolCall("add", "{\"a\":1,\"b\":2}"));
    Budget swarm = Budget.builder("swarm alpha").maxCalls(3).build();
    Map<AgentId, Budget> budgets = new ConcurrentHashMap<>();
    AgentId a = AgentId.of("coder", "a");
    AgentId b = AgentId.of("coder", "b");
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI)) {
      rt.register(
          LlmAgent.builder(definition("coder", "[add]"))
              .model(model)
              .tools(registry)
              .budgetPerAgent(
                  id ->
                      budgets.computeIfAbsent(
                          id, i -> Budget.builder("agent " + i).maxCalls(10).parent(swarm).build()))
              .type("coder"));

      assertThat(ask(a, new Task("What is 1 + 2?")))
          .as("a takes two of the swarm's three calls")
          .isInstanceOfSatisfying(TaskResult.class, r -> assertThat(r.text()).isEqualTo("3"));
      assertThat(ask(b, new Task("What is 1 + 2?")))
          .as("b gets the third, and its second is refused by the swarm")
          .isInstanceOfSatisfying(
              TaskFailed.class, f -> assertThat(f.reason()).contains("budget 'swarm alpha'"));
    }
    assertThat(server.requests()).hasSize(3);
    assertThat(swarm.spent().calls()).isEqualTo(3);
    assertThat(budgets.get(a).spent().calls()).isEqualTo(2);
    assertThat(budgets.get(b).spent().calls()).isEqualTo(1);
    assertThat(swarm.spent().totalTokens())
        .isEqualTo(budgets.get(a).spent().totalTokens() + budgets.get(b).spent().totalTokens());
    assertThat(events.next())
        .isInstanceOfSatisfying(
            BudgetExhausted.class,
            e -> {
              assertThat(e.agent()).isEqualTo(b);
              assertThat(e.budget()).isEqualTo("swarm alpha");
            });
    eventually(() -> rt.lookup(b).isEmpty(), "b stopped itself");
    assertThat(rt.lookup(a)).as("a is not touched").isPresent();
  }
}
