package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdsTest {

  @Test
  void agentIdKeepsWellFormedParts() {
    AgentId id = AgentId.of("coder.v2_x-y", "job#42/a");
    assertThat(id.type()).isEqualTo("coder.v2_x-y");
    assertThat(id.key()).isEqualTo("job#42/a");
    assertThat(id)
        .hasToString("coder.v2_x-y/job#42/a")
        .isEqualTo(new AgentId("coder.v2_x-y", "job#42/a"));
  }

  @Test
  void emptyOrNullTypeIsRejected() {
    assertThatThrownBy(() -> AgentId.of("", "1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent type is empty");
    assertThatThrownBy(() -> AgentId.of(null, "1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent type is empty");
  }

  @Test
  void tooLongTypeIsRejectedWithItsLengthAndTheLimit() {
    assertThat(AgentId.of("a".repeat(AgentId.MAX_TYPE_LENGTH), "1").type()).hasSize(64);
    assertThatThrownBy(() -> AgentId.of("a".repeat(65), "1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("65 characters")
        .hasMessageContaining("the limit is 64");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1coder", "_coder", "-coder", "cod er", "cod/er", "cod*er", "codér"})
  void badlyFormedTypeIsRejectedNamingTheType(String type) {
    assertThatThrownBy(() -> AgentId.of(type, "1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + type + "'")
        .hasMessageContaining("badly formed")
        .hasMessageContaining("must start with a letter");
  }

  @Test
  void emptyOrNullKeyIsRejected() {
    assertThatThrownBy(() -> AgentId.of("coder", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent key is empty");
    assertThatThrownBy(() -> AgentId.of("coder", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent key is empty");
  }

  @Test
  void tooLongKeyIsRejectedWithItsLengthAndTheLimit() {
    assertThat(AgentId.of("coder", "k".repeat(AgentId.MAX_KEY_LENGTH)).key()).hasSize(255);
    assertThatThrownBy(() -> AgentId.of("coder", "k".repeat(256)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("256 characters")
        .hasMessageContaining("the limit is 255");
  }

  @Test
  void keyWithSpacesOrInvisibleCharactersIsRejectedNamingThePosition() {
    assertThatThrownBy(() -> AgentId.of("coder", "my key"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'my key'")
        .hasMessageContaining("index 2")
        .hasMessageContaining("not visible ASCII");
    assertThatThrownBy(() -> AgentId.of("coder", "tab\there"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("index 3");
    assertThatThrownBy(() -> AgentId.of("coder", "clé"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("index 2");
  }

  @ParameterizedTest
  @ValueSource(strings = {"coder/1", "a/b/c", "x.y-z_1/~!@#$%^&*()", "T/" + "k"})
  void parseReadsBackToString(String text) {
    AgentId id = AgentId.parse(text);
    assertThat(id.toString()).isEqualTo(text);
    assertThat(AgentId.parse(id.toString())).isEqualTo(id);
  }

  @Test
  void parseSplitsAtTheFirstSlash() {
    AgentId id = AgentId.parse("files/src/main.java");
    assertThat(id.type()).isEqualTo("files");
    assertThat(id.key()).isEqualTo("src/main.java");
  }

  @Test
  void parseErrorsSayWhatIsWrong() {
    assertThatThrownBy(() -> AgentId.parse(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null")
        .hasMessageContaining("type/key");
    assertThatThrownBy(() -> AgentId.parse("coder"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'coder' has no '/'");
    assertThatThrownBy(() -> AgentId.parse("/1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent type is empty");
    assertThatThrownBy(() -> AgentId.parse("coder/"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("agent key is empty");
  }

  @Test
  void topicIdKeepsWellFormedParts() {
    TopicId t = TopicId.of("swarm.alpha-1.status_x", "run/42");
    assertThat(t.type()).isEqualTo("swarm.alpha-1.status_x");
    assertThat(t.source()).isEqualTo("run/42");
    assertThat(t).hasToString("swarm.alpha-1.status_x@run/42");
  }

  @Test
  void emptyTopicTypeIsRejected() {
    assertThatThrownBy(() -> TopicId.of("", "s"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topic type is empty");
    assertThatThrownBy(() -> TopicId.of(null, "s"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topic type is empty");
  }

  @Test
  void tooLongTopicTypeIsRejected() {
    assertThat(TopicId.of("t".repeat(TopicId.MAX_TYPE_LENGTH), "s").type()).hasSize(255);
    assertThatThrownBy(() -> TopicId.of("t".repeat(256), "s"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("256 characters")
        .hasMessageContaining("the limit is 255");
  }

  @ParameterizedTest
  @ValueSource(strings = {"tasks.*", "tasks.#", "a..b", ".a", "a.", "a b", "a/b"})
  void badlyFormedTopicTypeIsRejected(String type) {
    assertThatThrownBy(() -> TopicId.of(type, "s"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + type + "'")
        .hasMessageContaining("badly formed");
  }

  @Test
  void topicSourceFollowsTheKeyRules() {
    assertThatThrownBy(() -> TopicId.of("tasks", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> TopicId.of("tasks", "a b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not visible ASCII");
  }
}
