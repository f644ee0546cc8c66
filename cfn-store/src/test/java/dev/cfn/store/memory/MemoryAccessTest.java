package dev.cfn.store.memory;

import static dev.cfn.store.memory.MemoryFixtures.ALICE;
import static dev.cfn.store.memory.MemoryFixtures.AMY;
import static dev.cfn.store.memory.MemoryFixtures.BOB;
import static dev.cfn.store.memory.MemoryFixtures.CAROL;
import static dev.cfn.store.memory.MemoryFixtures.LONER;
import static dev.cfn.store.memory.MemoryFixtures.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryWrite;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every access level against every kind of principal, for every operation: ALICE owns the entry;
 * AMY shares her swarm and project, BOB only her project, CAROL and LONER nothing.
 */
class MemoryAccessTest {
  @TempDir Path dir;
  SqliteMemoryStore memory;

  static final Map<String, MemoryAccessor> PRINCIPALS =
      Map.of(
          "ALICE",
          ALICE,
          "AMY",
          AMY,
          "BOB",
          BOB,
          "CAROL",
          CAROL,
          "LONER",
          LONER,
          "OPERATOR",
          OPERATOR);

  static final Map<MemoryAccessLevel, Set<String>> READERS =
      Map.of(
          MemoryAccessLevel.PRIVATE, Set.of("ALICE", "OPERATOR"),
          MemoryAccessLevel.SWARM, Set.of("ALICE", "AMY", "OPERATOR"),
          MemoryAccessLevel.PROJECT, Set.of("ALICE", "AMY", "BOB", "OPERATOR"),
          MemoryAccessLevel.PUBLIC, PRINCIPALS.keySet());

  static final Map<MemoryAccessLevel, Set<String>> WRITERS =
      Map.of(
          MemoryAccessLevel.PRIVATE, Set.of("ALICE", "OPERATOR"),
          MemoryAccessLevel.SWARM, Set.of("ALICE", "AMY", "OPERATOR"),
          MemoryAccessLevel.PROJECT, Set.of("ALICE", "AMY", "BOB", "OPERATOR"),
          MemoryAccessLevel.PUBLIC, Set.of("ALICE", "OPERATOR"));

  static Stream<Arguments> everyLevelAndPrincipal() {
    List<Arguments> cases = new ArrayList<>();
    for (MemoryAccessLevel level : MemoryAccessLevel.values()) {
      for (String principal : PRINCIPALS.keySet().stream().sorted().toList()) {
        cases.add(Arguments.of(level, principal));
      }
    }
    return cases.stream();
  }

  @BeforeEach
  void open() {
    memory = SqliteMemoryStore.open(dir.resolve("memory.db"));
  }

  @AfterEach
  void close() {
    memory.close();
  }

  private void aliceWrites(MemoryAccessLevel level) {
    memory.put(
        ALICE, "n", "k", "the secret plan", MemoryWrite.defaults().level(level).tags("plan"));
  }

  @ParameterizedTest(name = "{0} entry read by {1}")
  @MethodSource("everyLevelAndPrincipal")
  void readGetListAndSearch(MemoryAccessLevel level, String name) {
    aliceWrites(level);
    MemoryAccessor who = PRINCIPALS.get(name);
    if (READERS.get(level).contains(name)) {
      assertThat(memory.get(who, "n", "k")).map(MemoryEntry::value).contains("the secret plan");
      assertThat(memory.list(who, "n", null, 10)).extracting(MemoryEntry::key).containsExactly("k");
      assertThat(memory.search(who, "secret", "n", 10))
          .extracting(m -> m.entry().key())
          .containsExactly("k");
      assertThat(memory.search(who, "plan", null, 10)).hasSize(1);
    } else {
      // the same answer as for a key nobody wrote: neither existence nor owner leaks
      assertThat(memory.get(who, "n", "k")).isEmpty();
      assertThat(memory.get(who, "n", "k")).isEqualTo(memory.get(who, "n", "never-written"));
      assertThat(memory.list(who, "n", null, 10)).isEmpty();
      assertThat(memory.search(who, "secret", "n", 10)).isEmpty();
      assertThat(memory.search(who, "plan", null, 10)).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0} entry written by {1}")
  @MethodSource("everyLevelAndPrincipal")
  void writeAnExistingEntry(MemoryAccessLevel level, String name) {
    aliceWrites(level);
    MemoryAccessor who = PRINCIPALS.get(name);
    if (WRITERS.get(level).contains(name)) {
      MemoryEntry written = memory.put(who, "n", "k", "changed by " + name);
      assertThat(written.owner()).isEqualTo("alice/1");
      assertThat(written.level()).isEqualTo(level);
      assertThat(memory.get(ALICE, "n", "k").orElseThrow().value()).isEqualTo("changed by " + name);
    } else if (!READERS.get(level).contains(name)) {
      // the key is taken (a put cannot hide that), but not by whom
      assertThatThrownBy(() -> memory.put(who, "n", "k", "changed by " + name))
          .isInstanceOf(MemoryAccessException.class)
          .hasMessageContaining(who + " may not write memory entry 'k' in namespace 'n'")
          .hasMessageContaining("the key is taken by an entry it may not read")
          .hasMessageNotContaining("alice/1")
          .hasMessageContaining("nothing was changed");
      assertThat(memory.get(ALICE, "n", "k").orElseThrow().value()).isEqualTo("the secret plan");
    } else {
      assertThatThrownBy(() -> memory.put(who, "n", "k", "changed by " + name))
          .isInstanceOf(MemoryAccessException.class)
          .hasMessageContaining(who + " may not write memory entry 'k' in namespace 'n'")
          .hasMessageContaining("it is " + level + "-level")
          .hasMessageContaining(expectedWriters(level))
          .hasMessageContaining("nothing was changed");
      assertThat(memory.get(ALICE, "n", "k").orElseThrow().value()).isEqualTo("the secret plan");
    }
  }

  @ParameterizedTest(name = "{0} entry deleted by {1}")
  @MethodSource("everyLevelAndPrincipal")
  void deleteAnEntry(MemoryAccessLevel level, String name) {
    aliceWrites(level);
    MemoryAccessor who = PRINCIPALS.get(name);
    if (WRITERS.get(level).contains(name)) {
      assertThat(memory.delete(who, "n", "k")).isTrue();
      assertThat(memory.get(OPERATOR, "n", "k")).isEmpty();
    } else if (!READERS.get(level).contains(name)) {
      // what the caller may not read is absent to him: false, as for a missing key
      assertThat(memory.delete(who, "n", "k")).isFalse();
      assertThat(memory.get(OPERATOR, "n", "k")).isPresent();
    } else {
      assertThatThrownBy(() -> memory.delete(who, "n", "k"))
          .isInstanceOf(MemoryAccessException.class)
          .hasMessageContaining("may not delete memory entry 'k'")
          .hasMessageContaining(expectedWriters(level));
      assertThat(memory.get(OPERATOR, "n", "k")).isPresent();
    }
  }

  private static String expectedWriters(MemoryAccessLevel level) {
    return switch (level) {
      case PRIVATE, PUBLIC -> "only its owner 'alice/1'";
      case SWARM -> "its owner 'alice/1' and the agents of swarm 'swarm-a'";
      case PROJECT -> "its owner 'alice/1' and the agents of project 'project-x'";
    };
  }

  @Test
  void onlyTheOwnerOrTheOperatorChangesTheLevel() {
    aliceWrites(MemoryAccessLevel.SWARM);
    assertThatThrownBy(
            () ->
                memory.put(
                    AMY, "n", "k", "leak", MemoryWrite.defaults().level(MemoryAccessLevel.PUBLIC)))
        .isInstanceOf(MemoryAccessException.class)
        .hasMessageContaining("may not change the level (to PUBLIC) of memory entry 'k'")
        .hasMessageContaining("only its owner 'alice/1'");
    assertThat(memory.get(LONER, "n", "k")).isEmpty(); // still SWARM, not PUBLIC
    // a member restating the same level is fine
    memory.put(AMY, "n", "k", "v2", MemoryWrite.defaults().level(MemoryAccessLevel.SWARM));

    memory.put(ALICE, "n", "k", "v3", MemoryWrite.defaults().level(MemoryAccessLevel.PUBLIC));
    assertThat(memory.get(LONER, "n", "k")).map(MemoryEntry::value).contains("v3");
    memory.put(OPERATOR, "n", "k", "v4", MemoryWrite.defaults().level(MemoryAccessLevel.PRIVATE));
    assertThat(memory.list(AMY, "n", null, 10)).isEmpty();
    assertThat(memory.get(ALICE, "n", "k").orElseThrow().owner()).isEqualTo("alice/1");
  }

  @Test
  void listAndSearchFilterInSqlSoTheLimitCountsOnlyReadableEntries() {
    for (int i = 0; i < 5; i++) {
      memory.put(CAROL, "n", "a-hidden-" + i, "release notes draft");
    }
    for (int i = 0; i < 3; i++) {
      memory.put(
          ALICE,
          "n",
          "z-shared-" + i,
          "release notes",
          MemoryWrite.defaults().level(MemoryAccessLevel.PROJECT));
    }
    assertThat(memory.list(BOB, "n", null, 3))
        .extracting(MemoryEntry::key)
        .containsExactly("z-shared-0", "z-shared-1", "z-shared-2");
    assertThat(memory.search(BOB, "release", "n", 3))
        .extracting(m -> m.entry().key())
        .containsExactlyInAnyOrder("z-shared-0", "z-shared-1", "z-shared-2");
    assertThat(memory.list(OPERATOR, "n", null, 100)).hasSize(8);
  }

  @Test
  void theOperatorActingForASwarmCreatesEntriesThatSwarmShares() {
    MemoryAccessor seeding = MemoryAccessor.operator("swarm-a", null);
    MemoryEntry seeded =
        memory.put(
            seeding,
            "n",
            "brief",
            "build it",
            MemoryWrite.defaults().level(MemoryAccessLevel.SWARM));
    assertThat(seeded.owner()).isEqualTo(MemoryAccessor.OPERATOR_ID);
    assertThat(memory.get(AMY, "n", "brief")).isPresent();
    memory.put(AMY, "n", "brief", "build it twice"); // members write a swarm entry
    assertThat(memory.get(BOB, "n", "brief")).isEmpty();
    assertThatThrownBy(() -> memory.put(BOB, "n", "brief", "mine now"))
        .isInstanceOf(MemoryAccessException.class)
        .hasMessageContaining("the key is taken by an entry it may not read")
        .hasMessageNotContaining("operator")
        .hasMessageNotContaining("swarm-a");
  }

  @Test
  void principalsDescribeThemselves() {
    assertThat(ALICE.toString())
        .isEqualTo("agent 'alice/1' (swarm 'swarm-a', project 'project-x')");
    assertThat(LONER.toString()).isEqualTo("agent 'loner/1' (no swarm, no project)");
    assertThat(OPERATOR.toString()).startsWith("the operator");
    assertThat(OPERATOR.isOperator()).isTrue();
    assertThat(ALICE.isOperator()).isFalse();
  }

  @Test
  void privateEntriesOfOthersDoNotMoveTheScoresACallerSees() {
    memory.put(
        ALICE,
        "zoo",
        "animals",
        "the zebra grazes beside the lion",
        MemoryWrite.defaults().level(MemoryAccessLevel.PUBLIC));
    memory.put(
        ALICE,
        "zoo",
        "keeper",
        "feeding times for the zebra and the zebra foal",
        MemoryWrite.defaults().level(MemoryAccessLevel.PUBLIC));
    List<MemoryMatch> before = memory.search(LONER, "zebra", null, 10);
    assertThat(before).hasSize(2);

    // the attack: another agent stores PRIVATE entries full of the word, and some without it
    for (int i = 0; i < 50; i++) {
      memory.put(CAROL, "diary", "z" + i, "zebra zebra zebra secret " + i);
      memory.put(CAROL, "diary", "other" + i, "nothing to see here at all, entry " + i);
    }
    List<MemoryMatch> after = memory.search(LONER, "zebra", null, 10);
    assertThat(after).isEqualTo(before); // same entries, same order, identical scores
    assertThat(memory.search(LONER, "zebra", "zoo", 1)).containsExactly(before.get(0));
    // CAROL herself finds hers, ranked by their own text
    assertThat(memory.search(CAROL, "zebra", "diary", 100)).hasSize(50);
  }
}
