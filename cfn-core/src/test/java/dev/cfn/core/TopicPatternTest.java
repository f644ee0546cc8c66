package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicPatternTest {

  @ParameterizedTest(name = "{0} ~ {1} -> {2}")
  @CsvSource({
    "swarm.*.status, swarm.a.status, true",
    "swarm.*.status, swarm.b-2.status, true",
    "swarm.*.status, swarm.a.b.status, false",
    "swarm.*.status, swarm.status, false",
    "swarm.*.status, swarm.a.status.x, false",
    "swarm.*.status, other.a.status, false",
    "tasks.#, tasks, true",
    "tasks.#, tasks.a, true",
    "tasks.#, tasks.a.b, true",
    "tasks.#, task, false",
    "tasks.#, tasksx, false",
    "tasks.#, other.tasks, false",
    "#, a, true",
    "#, a.b.c, true",
    "#.status, status, true",
    "#.status, a.status, true",
    "#.status, a.b.status, true",
    "#.status, a.status.x, false",
    "a.#.z, a.z, true",
    "a.#.z, a.b.z, true",
    "a.#.z, a.b.c.z, true",
    "a.#.z, a.b, false",
    "a.#.z, z, false",
    "a.*.#, a.b, true",
    "a.*.#, a.b.c.d, true",
    "a.*.#, a, false",
    "*, a, true",
    "*, a.b, false",
    "*.*, a.b, true",
    "*.*, a, false",
    "a.b, a.b, true",
    "a.b, a.b.c, false",
    "a.b, a, false",
    "a.b, a.c, false"
  })
  void matches(String pattern, String topic, boolean expected) {
    assertThat(TopicPattern.parse(pattern).matches(topic)).isEqualTo(expected);
  }

  @Test
  void emptyPatternIsRejected() {
    assertThatThrownBy(() -> TopicPattern.parse(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topic pattern is empty");
    assertThatThrownBy(() -> TopicPattern.parse(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topic pattern is empty");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a..b", ".a", "a.", "."})
  void emptySegmentIsRejected(String pattern) {
    assertThatThrownBy(() -> TopicPattern.parse(pattern))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + pattern + "'")
        .hasMessageContaining("empty segment");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a.b*", "a.*x", "a.#x", "a b", "a/b"})
  void partialWildcardsAndBadCharactersAreRejected(String pattern) {
    assertThatThrownBy(() -> TopicPattern.parse(pattern))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + pattern + "' has segment");
  }

  @Test
  void equalPatternsAreEqual() {
    assertThat(TopicPattern.parse("a.*.#")).isEqualTo(TopicPattern.parse("a.*.#"));
    assertThat(TopicPattern.parse("a.*.#")).hasSameHashCodeAs(TopicPattern.parse("a.*.#"));
    assertThat(TopicPattern.parse("a.*")).isNotEqualTo(TopicPattern.parse("a.#"));
    assertThat(TopicPattern.parse("a.*")).hasToString("a.*");
  }
}
