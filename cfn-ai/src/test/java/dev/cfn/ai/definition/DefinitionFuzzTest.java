package dev.cfn.ai.definition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The agent-definition parser fuzzed with jqwik (fixed seeds, bounded tries): arbitrary text, text
 * built from YAML's own punctuation inside a frontmatter, and a valid definition with random edits.
 * Each parse must end (a deadline catches a hang), throw nothing, and either give a definition or
 * report at least one error, every problem with a message and a fix: 0 crashes, 0 hangs.
 */
class DefinitionFuzzTest {
  static final Path FILE = Path.of("fuzz.md");
  static final Duration DEADLINE = Duration.ofSeconds(20);

  static final String VALID =
      """
      ---
      name: reviewer
      description: Reviews changes
      tools: Read, Grep, Bash(git diff:*)
      model: gpt-4o-mini
      provider: openai
      color: blue
      type: reviewer
      capabilities: [review, security]
      priority: high
      hooks:
        pre: echo start
      lifecycle:
        init: echo init
      ---
      You review changes carefully.
      """;

  static void parsesCleanly(String text) {
    DefinitionParser.Parsed parsed =
        assertTimeoutPreemptively(DEADLINE, () -> DefinitionParser.parse(text, FILE));
    assertThat(parsed).isNotNull();
    for (Problem p : parsed.problems()) {
      assertThat(p.message()).isNotBlank();
      assertThat(p.line()).isGreaterThanOrEqualTo(0);
    }
    if (parsed.definition() == null) {
      assertThat(parsed.problems()).anyMatch(Problem::isError);
    }
  }

  @Property(tries = 400, seed = "20261206")
  void anyTextParsesWithoutACrashOrAHang(@ForAll("anyText") String text) {
    parsesCleanly(text);
  }

  @Property(tries = 400, seed = "20261207")
  void yamlPunctuationInAFrontmatterParsesWithoutACrashOrAHang(
      @ForAll("yamlish") String yaml, @ForAll("anyText") String body) {
    parsesCleanly("---\n" + yaml + "\n---\n" + body);
  }

  @Property(tries = 600, seed = "20261208")
  void aValidDefinitionWithRandomEditsParsesWithoutACrashOrAHang(
      @ForAll("edits") List<Edit> edits) {
    StringBuilder text = new StringBuilder(VALID);
    for (Edit e : edits) {
      e.apply(text);
    }
    parsesCleanly(text.toString());
  }

  @Provide
  Arbitrary<String> anyText() {
    return Arbitraries.strings().all().ofMaxLength(400);
  }

  @Provide
  Arbitrary<String> yamlish() {
    return Arbitraries.strings()
        .withChars("-:#&*!|>'\"%@`[]{},?\n\t ")
        .withChars("namedscriptolsyhk")
        .withCharRange('0', '9')
        .withChars('\u0000', '\u00e9', '\u202e', '\ufeff')
        .ofMaxLength(300);
  }

  /** One edit at a relative position of the text: insert, delete or replace text there. */
  record Edit(double at, int kind, String text) {
    void apply(StringBuilder s) {
      int i = Math.min(s.length(), (int) (at * s.length()));
      switch (kind) {
        case 0 -> s.insert(i, text);
        case 1 -> s.delete(i, Math.min(s.length(), i + text.length() + 1));
        default -> s.replace(i, Math.min(s.length(), i + text.length()), text);
      }
    }
  }

  @Provide
  Arbitrary<List<Edit>> edits() {
    Arbitrary<Edit> edit =
        Combinators.combine(
                Arbitraries.doubles().between(0, 1),
                Arbitraries.integers().between(0, 2),
                Arbitraries.oneOf(
                    Arbitraries.strings().withChars("-:#&*!|>'\"[]{},\n ").ofMaxLength(6),
                    Arbitraries.strings().all().ofMaxLength(6),
                    Arbitraries.of("---\n", "\n---", "name:", "tools:", "hooks:\n  ", "*a", "&a ")))
            .as(Edit::new);
    return edit.list().ofMinSize(1).ofMaxSize(8);
  }
}
