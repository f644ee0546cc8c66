package dev.cfn.store.memory;

import static dev.cfn.store.memory.MemoryFixtures.ALICE;
import static dev.cfn.store.memory.MemoryFixtures.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryWrite;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Full-text search: BM25 ranking, the namespace filter and the sanitizing of queries. */
class MemorySearchTest {
  @TempDir Path dir;
  SqliteMemoryStore memory;

  @BeforeEach
  void open() {
    memory = SqliteMemoryStore.open(dir.resolve("memory.db"));
    // filler, so that the searched words are rare and BM25's inverse document frequency counts
    for (int i = 0; i < 10; i++) {
      memory.put(ALICE, "notes", "filler-" + i, "lunch menu number " + i + " soup and bread");
    }
  }

  @AfterEach
  void close() {
    memory.close();
  }

  private List<String> keys(List<MemoryMatch> matches) {
    return matches.stream().map(m -> m.entry().key()).toList();
  }

  @Test
  void resultsAreRankedByBm25WithKeysAndTagsCountingMore() {
    memory.put(
        ALICE,
        "notes",
        "passing",
        "a long note that mentions kubernetes once among many other words about lunch and"
            + " meetings and the weather and the office plants");
    memory.put(ALICE, "notes", "focused", "kubernetes kubernetes: upgrade the kubernetes cluster");
    memory.put(
        ALICE,
        "notes",
        "kubernetes",
        "cluster upgrade steps",
        MemoryWrite.defaults().tags("kubernetes"));

    List<MemoryMatch> matches = memory.search(ALICE, "kubernetes", "notes", 10);
    assertThat(keys(matches)).containsExactly("kubernetes", "focused", "passing");
    assertThat(matches.get(0).relevance()).isGreaterThan(matches.get(1).relevance());
    assertThat(matches.get(1).relevance()).isGreaterThan(matches.get(2).relevance());

    assertThat(keys(memory.search(ALICE, "kubernetes", "notes", 2)))
        .containsExactly("kubernetes", "focused");
  }

  @Test
  void theNamespaceFilterRestrictsTheSearchAndNullSearchesEverywhere() {
    memory.put(ALICE, "team-a", "deploy", "deploy on fridays");
    memory.put(ALICE, "team-b", "deploy", "never deploy on fridays");

    assertThat(memory.search(ALICE, "fridays", "team-a", 10))
        .extracting(m -> m.entry().namespace())
        .containsExactly("team-a");
    assertThat(memory.search(ALICE, "fridays", "team-b", 10))
        .extracting(m -> m.entry().value())
        .containsExactly("never deploy on fridays");
    assertThat(memory.search(ALICE, "fridays", null, 10))
        .extracting(m -> m.entry().namespace())
        .containsExactlyInAnyOrder("team-a", "team-b");
    assertThat(memory.search(ALICE, "fridays", "team-c", 10)).isEmpty();
  }

  @Test
  void wordsMustAllMatchPrefixesPhrasesAndOrWork() {
    memory.put(ALICE, "n", "bg", "blue green deployment of the api");
    memory.put(ALICE, "n", "gb", "green then blue rollout");
    memory.put(ALICE, "n", "canary", "canary release of the api");
    memory.put(ALICE, "n", "cafe", "meeting at the Café Zoë");

    assertThat(keys(memory.search(ALICE, "blue green", "n", 10)))
        .containsExactlyInAnyOrder("bg", "gb");
    assertThat(keys(memory.search(ALICE, "\"blue green\"", "n", 10))).containsExactly("bg");
    assertThat(keys(memory.search(ALICE, "deploy*", "n", 10))).containsExactly("bg");
    assertThat(keys(memory.search(ALICE, "rollout OR canary", "n", 10)))
        .containsExactlyInAnyOrder("gb", "canary");
    assertThat(keys(memory.search(ALICE, "api canary", "n", 10))).containsExactly("canary");
    assertThat(keys(memory.search(ALICE, "cafe zoe", "n", 10))).containsExactly("cafe");
    assertThat(keys(memory.search(ALICE, "CAFÉ", "n", 10))).containsExactly("cafe");
  }

  @Test
  void ftsSyntaxInAQueryIsSearchedLiterallyNeverAnSqlError() {
    memory.put(ALICE, "n", "odd", "the cat: AND dog (NEAR) x^2 -minus {col} \"quoted\" it's");
    List<String> hostile =
        List.of(
            "cat AND",
            "AND",
            "\"unclosed phrase",
            "NEAR(dog",
            "key:cat",
            "value : dog",
            "(cat",
            "dog)",
            "-minus",
            "^x",
            "{col}",
            "cat NOT",
            "* cat",
            "it's",
            "OR cat OR",
            "cat OR OR dog",
            "x\"y",
            "'; DROP TABLE memory_entries; --");
    for (String query : hostile) {
      assertThat(memory.search(OPERATOR, query, null, 10)).as(query).isNotNull();
    }
    assertThat(keys(memory.search(ALICE, "cat: AND dog (NEAR)", "n", 10))).containsExactly("odd");
    assertThat(keys(memory.search(ALICE, "NEAR(dog", "n", 10))).isEmpty(); // "near dog": no phrase
    assertThat(keys(memory.search(ALICE, "{col} it's", "n", 10))).containsExactly("odd");
    assertThat(keys(memory.search(ALICE, "OR cat OR", "n", 10))).containsExactly("odd");
    assertThat(memory.list(OPERATOR, "n", null, 10)).hasSize(1); // the table is still there
  }

  @Test
  void aQueryWithoutWordsIsRefusedClearly() {
    for (String query : List.of("", "   ", "***", "\"\"", "\"\"\"", "()", "OR", "-- !! ??")) {
      assertThatThrownBy(() -> memory.search(ALICE, query, null, 10))
          .as(query)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("search query");
    }
    assertThatThrownBy(() -> memory.search(ALICE, "x".repeat(1001), null, 10))
        .hasMessageContaining("more than the 1000 allowed");
  }

  @Test
  void theSanitizerQuotesEveryTerm() {
    assertThat(MemorySearchQuery.toFts("foo \"bar baz\" qu* OR x"))
        .isEqualTo("\"foo\" \"bar baz\" \"qu\"* OR \"x\"");
    assertThat(MemorySearchQuery.toFts("a\"b c")).isEqualTo("\"a\" \"b c\"");
    assertThat(MemorySearchQuery.toFts("OR foo OR")).isEqualTo("\"foo\"");
    assertThat(MemorySearchQuery.toFts("foo AND NOT bar"))
        .isEqualTo("\"foo\" \"AND\" \"NOT\" \"bar\"");
    assertThat(MemorySearchQuery.toFts("col:x")).isEqualTo("\"col:x\"");
    assertThat(MemorySearchQuery.toFts("\"phrase\"* tail")).isEqualTo("\"phrase\"* \"tail\"");
  }
}
