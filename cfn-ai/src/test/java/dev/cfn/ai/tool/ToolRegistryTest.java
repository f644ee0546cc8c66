package dev.cfn.ai.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ToolCall;
import dev.cfn.core.AgentId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ToolRegistryTest {
  private static final AgentId AGENT = AgentId.of("coder", "1");

  static JsonNode json(String text) {
    try {
      return ToolJson.MAPPER.readTree(text);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static ToolResult run(ToolRegistry registry, String tool, String arguments) {
    return ToolExecutor.builder(registry, AGENT)
        .permissions(ToolPermissions.of("*"))
        .build()
        .execute(new ToolCall("c1", tool, json(arguments)));
  }

  @Nested
  class Lambdas {
    @Test
    void aLambdaToolIsRegisteredCalledAndFound() {
      ToolRegistry registry = new ToolRegistry();
      Tool greet =
          Tool.readOnly(
              "greet",
              "Greets someone.",
              json(
                  "{\"type\":\"object\",\"properties\":{\"who\":{\"type\":\"string\"}},"
                      + "\"required\":[\"who\"]}"),
              (args, ctx) ->
                  ToolResult.text("hello " + args.get("who").asText() + " from " + ctx.agent()));
      registry.register(greet);

      assertThat(registry.find("greet")).containsSame(greet);
      assertThat(greet.sideEffecting()).isFalse();
      assertThat(Tool.of("x", "d", json("{\"type\":\"object\"}"), (a, c) -> null).sideEffecting())
          .isTrue();
      assertThat(run(registry, "greet", "{\"who\":\"ada\"}"))
          .isEqualTo(ToolResult.text("hello ada from coder/1"));
    }

    @Test
    void aNameIsRegisteredOnce() {
      ToolRegistry registry = new ToolRegistry();
      Tool one = Tool.of("one", "d", json("{\"type\":\"object\"}"), (a, c) -> ToolResult.text("1"));
      registry.register(one);
      assertThatThrownBy(() -> registry.register(one))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'one' is already registered");
      assertThat(registry.unregister("one")).isTrue();
      assertThat(registry.find("one")).isEmpty();
    }

    @Test
    void aBadSchemaFailsRegistrationListingTheProblems() {
      ToolRegistry registry = new ToolRegistry();
      Tool bad =
          Tool.of(
              "bad",
              "d",
              json(
                  "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"int\",\"minimum\":\"0\"}}}"),
              (a, c) -> ToolResult.text("never"));
      assertThatThrownBy(() -> registry.register(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("tool 'bad' is not a valid JSON Schema")
          .hasMessageContaining("/properties/n/type")
          .hasMessageContaining("/properties/n/minimum");
      Tool dangling =
          Tool.of(
              "dangling", "d", json("{\"$ref\":\"#/$defs/none\"}"), (a, c) -> ToolResult.text("x"));
      assertThatThrownBy(() -> registry.register(dangling))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cannot be compiled");
      Tool unknownDraft =
          Tool.of(
              "draft",
              "d",
              json("{\"$schema\":\"https://example.com/my-draft\",\"type\":\"object\"}"),
              (a, c) -> ToolResult.text("x"));
      assertThatThrownBy(() -> registry.register(unknownDraft))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not a JSON Schema draft cfn knows");
      assertThat(registry.tools()).isEmpty();
    }

    @Test
    void draft07SchemasAreAccepted() {
      ToolRegistry registry = new ToolRegistry();
      registry.register(
          Tool.of(
              "d7",
              "d",
              json(
                  "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
                      + "\"properties\":{\"n\":{\"type\":\"integer\",\"exclusiveMinimum\":0}}}"),
              (a, c) -> ToolResult.text("ran")));
      assertThat(run(registry, "d7", "{\"n\":1}")).isEqualTo(ToolResult.text("ran"));
      assertThat(run(registry, "d7", "{\"n\":0}").isError()).isTrue();
    }

    @Test
    void registerAllIsAllOrNothing() {
      ToolRegistry registry = new ToolRegistry();
      Tool good =
          Tool.of("good", "d", json("{\"type\":\"object\"}"), (a, c) -> ToolResult.text("g"));
      Tool bad = Tool.of("bad", "d", json("{\"type\":7}"), (a, c) -> ToolResult.text("b"));
      assertThatThrownBy(() -> registry.registerAll(List.of(good, bad)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(registry.tools()).isEmpty();
    }
  }

  enum Mood {
    CALM,
    CROSS
  }

  record Summary(String name, int count) {}

  /** A plain object whose methods are tools. */
  static class Desk {
    final AtomicInteger calls = new AtomicInteger();

    @ToolMethod(name = "add", description = "Adds two integers.", sideEffecting = false)
    long add(
        @Param(name = "a", description = "the first") int a,
        @Param(name = "b", description = "the second") long b) {
      calls.incrementAndGet();
      return a + b;
    }

    @ToolMethod(name = "describe", description = "Describes a mood and some words.")
    Summary describe(
        @Param(name = "mood") Mood mood,
        @Param(name = "words", description = "words to count") List<String> words,
        @Param(name = "tags", required = false) Set<Integer> tags,
        @Param(name = "scores", required = false) Map<String, Double> scores,
        @Param(name = "extra", required = false) JsonNode extra,
        @Param(name = "loud", required = false) Boolean loud,
        ToolContext context) {
      calls.incrementAndGet();
      return new Summary(
          mood
              + "/"
              + context.agent()
              + "/"
              + (loud == null ? "quiet" : "loud")
              + "/"
              + (extra == null ? "-" : extra.toString())
              + "/"
              + (tags == null ? 0 : tags.size())
              + "/"
              + (scores == null ? 0 : scores.size()),
          words.size());
    }

    @ToolMethod(name = "note", description = "Takes a note and returns nothing.")
    void note(@Param(name = "text") String text) {
      calls.incrementAndGet();
    }

    @ToolMethod(name = "explode", description = "Always throws.")
    String explode() {
      throw new IllegalStateException("boom: the desk is on fire");
    }
  }

  @Nested
  class AnnotatedMethods {
    @Test
    void schemasAreGeneratedFromTheJavaTypes() {
      ToolRegistry registry = new ToolRegistry();
      List<Tool> tools = registry.register(new Desk());

      assertThat(tools)
          .extracting(Tool::name)
          .containsExactly("add", "describe", "explode", "note");
      Tool add = registry.find("add").orElseThrow();
      assertThat(add.sideEffecting()).isFalse();
      assertThat(add.spec().inputSchema())
          .isEqualTo(
              json(
                  """
                  {"type": "object",
                   "properties": {
                     "a": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647,
                           "description": "the first"},
                     "b": {"type": "integer", "minimum": -9223372036854775808,
                           "maximum": 9223372036854775807, "description": "the second"}},
                   "required": ["a", "b"],
                   "additionalProperties": false}
                  """));
      Tool describe = registry.find("describe").orElseThrow();
      assertThat(describe.sideEffecting()).isTrue();
      assertThat(describe.spec().inputSchema())
          .isEqualTo(
              json(
                  """
                  {"type": "object",
                   "properties": {
                     "mood": {"type": "string", "enum": ["CALM", "CROSS"]},
                     "words": {"type": "array", "items": {"type": "string"},
                               "description": "words to count"},
                     "tags": {"type": "array", "items": {"type": "integer",
                              "minimum": -2147483648, "maximum": 2147483647},
                              "uniqueItems": true},
                     "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                     "extra": {},
                     "loud": {"type": "boolean"}},
                   "required": ["mood", "words"],
                   "additionalProperties": false}
                  """));
      assertThat(registry.find("explode").orElseThrow().spec().inputSchema())
          .isEqualTo(
              json("{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"));
    }

    @Test
    void argumentsAreConvertedAndReturnValuesBecomeText() {
      ToolRegistry registry = new ToolRegistry();
      Desk desk = new Desk();
      registry.register(desk);

      assertThat(run(registry, "add", "{\"a\": 2, \"b\": 5000000000}"))
          .isEqualTo(ToolResult.text("5000000002"));
      assertThat(
              run(
                  registry,
                  "describe",
                  "{\"mood\":\"CROSS\",\"words\":[\"a\",\"b\",\"c\"],\"loud\":true,"
                      + "\"extra\":{\"k\":[1]},\"tags\":[1,2],\"scores\":{\"x\":0.5}}"))
          .isEqualTo(
              ToolResult.text("{\"name\":\"CROSS/coder/1/loud/{\\\"k\\\":[1]}/2/1\",\"count\":3}"));
      assertThat(run(registry, "describe", "{\"mood\":\"CALM\",\"words\":[]}"))
          .isEqualTo(ToolResult.text("{\"name\":\"CALM/coder/1/quiet/-/0/0\",\"count\":0}"));
      assertThat(run(registry, "note", "{\"text\":\"remember\"}")).isEqualTo(ToolResult.text("ok"));
      ToolResult exploded = run(registry, "explode", "{}");
      assertThat(exploded.isError()).isTrue();
      assertThat(exploded.content())
          .isEqualTo("The tool 'explode' failed: IllegalStateException: boom: the desk is on fire");
      assertThat(desk.calls).hasValue(4);
    }

    @Test
    void valuesOutsideTheJavaTypeAreRefusedBeforeTheCall() {
      ToolRegistry registry = new ToolRegistry();
      Desk desk = new Desk();
      registry.register(desk);

      ToolResult tooBig = run(registry, "add", "{\"a\": 3000000000, \"b\": 1}");
      assertThat(tooBig.isError()).isTrue();
      assertThat(tooBig.content()).contains("/a").contains("maximum");
      ToolResult badEnum = run(registry, "describe", "{\"mood\":\"HAPPY\",\"words\":[]}");
      assertThat(badEnum.content()).contains("/mood").contains("enumeration");
      ToolResult unknown = run(registry, "note", "{\"text\":\"t\",\"colour\":\"red\"}");
      assertThat(unknown.content()).contains("colour");
      ToolResult duplicates =
          run(registry, "describe", "{\"mood\":\"CALM\",\"words\":[],\"tags\":[1,1]}");
      assertThat(duplicates.content()).contains("/tags");
      assertThat(desk.calls).hasValue(0);
    }

    static class NoTools {
      String notATool() {
        return "";
      }
    }

    static class Unannotated {
      @ToolMethod(name = "u", description = "d")
      String u(String text) {
        return text;
      }
    }

    static class OptionalPrimitive {
      @ToolMethod(name = "p", description = "d")
      String p(@Param(name = "n", required = false) int n) {
        return "";
      }
    }

    static class Unsupported {
      @ToolMethod(name = "t", description = "d")
      String t(@Param(name = "when") java.time.Instant when) {
        return "";
      }
    }

    static class BadName {
      @ToolMethod(name = "no spaces", description = "d")
      String t() {
        return "";
      }
    }

    @Test
    void methodsThatCannotBeToolsFailRegistrationWithTheReason() {
      ToolRegistry registry = new ToolRegistry();
      assertThatThrownBy(() -> registry.register(new NoTools()))
          .hasMessageContaining("has no method annotated with @ToolMethod");
      assertThatThrownBy(() -> registry.register(new Unannotated()))
          .hasMessageContaining("Unannotated.u: parameter 1 has no @Param");
      assertThatThrownBy(() -> registry.register(new OptionalPrimitive()))
          .hasMessageContaining("parameter 'n' is optional but has the primitive type int");
      assertThatThrownBy(() -> registry.register(new Unsupported()))
          .hasMessageContaining("parameter 'when' has type java.time.Instant");
      assertThatThrownBy(() -> registry.register(new BadName()))
          .hasMessageContaining("tool name 'no spaces' is invalid");
      assertThat(registry.tools()).isEmpty();
    }

    @Test
    void aToolObjectPassedAsObjectIsRegisteredAsItself() {
      ToolRegistry registry = new ToolRegistry();
      Object tool =
          Tool.of("t", "d", json("{\"type\":\"object\"}"), (a, c) -> ToolResult.text("t"));
      assertThat(registry.register(tool)).containsExactly((Tool) tool);
    }
  }
}
