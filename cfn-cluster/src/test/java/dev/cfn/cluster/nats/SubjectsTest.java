package dev.cfn.cluster.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.TopicId;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class SubjectsTest {

  private final Subjects subjects = Subjects.of("test-ns");

  /** A subject token as NATS wants it: not empty, no white space, no '.', never a wildcard. */
  private static void assertValidToken(String token) {
    assertThat(token).isNotEmpty().matches("[A-Za-z0-9_-]+");
  }

  @Property(tries = 1000)
  void anyStringRoundTripsThroughOneToken(@ForAll @StringLength(max = 100) String text) {
    // jqwik's strings include unpaired surrogates, which are not text: only well-formed ones here
    if (!isWellFormed(text)) {
      return;
    }
    String token = Subjects.encodeToken(text);
    assertValidToken(token);
    assertThat(Subjects.decodeToken(token)).isEqualTo(text);
  }

  @Property(tries = 1000)
  void anyAgentIdRoundTripsThroughBothSubjects(@ForAll("agentIds") AgentId id) {
    int partition = new Partitioner(256).partition(id);
    String reliable = subjects.reliable(partition, id);
    String bestEffort = subjects.bestEffort(partition, id);
    assertThat(reliable.split("\\.")).hasSize(6).allSatisfy(SubjectsTest::assertValidToken);
    assertThat(subjects.parseAgent(reliable))
        .isEqualTo(new Subjects.AgentSubject(true, partition, id));
    assertThat(subjects.parseAgent(bestEffort))
        .isEqualTo(new Subjects.AgentSubject(false, partition, id));
  }

  @Provide
  Arbitrary<AgentId> agentIds() {
    Arbitrary<String> types =
        Arbitraries.strings()
            .withCharRange('a', 'z')
            .withChars('.', '_', '-', 'Q', '9')
            .ofMinLength(0)
            .ofMaxLength(63)
            .map(s -> "t" + s);
    Arbitrary<String> keys =
        Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(255);
    return net.jqwik.api.Combinators.combine(types, keys).as(AgentId::new);
  }

  @Test
  void awkwardKeysRoundTrip() {
    List<String> keys =
        List.of(
            "a.b.c",
            "*",
            ">",
            "a.*",
            "a.>",
            ".",
            "..",
            "_",
            "__",
            "_2E",
            "%2E",
            "$JS",
            "\\",
            "\"'`",
            "~!@#$%^&*()+=",
            "-",
            "x".repeat(255),
            ".".repeat(255),
            "_".repeat(255));
    for (String key : keys) {
      AgentId id = AgentId.of("swarm.alpha_1-x", key);
      String subject = subjects.reliable(7, id);
      assertThat(subject.split("\\.")).hasSize(6).allSatisfy(SubjectsTest::assertValidToken);
      assertThat(subjects.parseAgent(subject).agent()).isEqualTo(id);
    }
    // beyond AgentId's rules: spaces, control characters, unicode, the empty string
    for (String text : List.of("", " ", "a b", "\t\n", "é", "日本語", "😀.>", "\u0000", "a\u00A0b")) {
      assertThat(Subjects.decodeToken(Subjects.encodeToken(text))).isEqualTo(text);
      assertValidToken(Subjects.encodeToken(text));
    }
  }

  @Test
  void commonIdsStayReadable() {
    assertThat(subjects.reliable(3, AgentId.of("coder", "42")))
        .isEqualTo("cfn.test-ns.rel.3.coder.42");
    assertThat(Subjects.encodeToken("swarm.alpha")).isEqualTo("swarm_2Ealpha");
    assertThat(Subjects.encodeToken("_")).isEqualTo("_5F");
    assertThat(Subjects.encodeToken("")).isEqualTo("_");
  }

  @Test
  void topicsRoundTripAndPatternsSelectThem() {
    TopicId topic = TopicId.of("swarm.alpha_x.status", "run.42/*");
    String subject = subjects.topic(topic);
    assertThat(subject).startsWith("cfn.test-ns.topic.");
    assertThat(subjects.parseTopic(subject)).isEqualTo(topic);
    assertThat(subjects.topicFilters("swarm.*.status"))
        .containsExactly("cfn.test-ns.topic.*.swarm.*.status");
    assertThat(subjects.topicFilters("swarm.#"))
        .containsExactly("cfn.test-ns.topic.*.swarm", "cfn.test-ns.topic.*.swarm.>");
    assertThat(subjects.topicFilters("#")).containsExactly("cfn.test-ns.topic.*.>");
  }

  @Test
  void malformedInputIsRefusedWithTheFix() {
    assertThatThrownBy(() -> Subjects.of("Prod")).hasMessageContaining("fix:");
    assertThatThrownBy(() -> Subjects.of("")).hasMessageContaining("fix:");
    assertThatThrownBy(() -> Subjects.decodeToken("a_2")).hasMessageContaining("escape");
    assertThatThrownBy(() -> Subjects.decodeToken("a_41")).hasMessageContaining("plain");
    assertThatThrownBy(() -> Subjects.decodeToken("a.b"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Subjects.decodeToken("_C3")).hasMessageContaining("UTF-8");
    assertThatThrownBy(() -> Subjects.encodeToken("\uD800")).hasMessageContaining("surrogate");
    assertThatThrownBy(() -> Subjects.encodeToken("é".repeat(200))).hasMessageContaining("limit");
    assertThatThrownBy(() -> subjects.parseAgent("cfn.other.rel.1.a.b"))
        .hasMessageContaining("namespace");
  }

  @Test
  void partitionsAreFnv1aAndStable() {
    // FNV-1a 32 of "a\0b" computed by hand from the documented algorithm
    int h = 0x811C9DC5;
    for (int b : new int[] {'a', 0, 'b'}) {
      h = (h ^ b) * 0x01000193;
    }
    assertThat(Partitioner.hash(AgentId.of("a", "b"))).isEqualTo(h);
    assertThat(new Partitioner(256).partition(AgentId.of("a", "b")))
        .isEqualTo((int) (Integer.toUnsignedLong(h) % 256));
    assertThat(new Partitioner(1).partition(AgentId.of("coder", "1"))).isZero();
    assertThatThrownBy(() -> new Partitioner(0)).hasMessageContaining("fix:");
  }

  private static boolean isWellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
