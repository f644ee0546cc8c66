package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The audited local commands ({@code cfn dlq replay|purge}, {@code cfn loop decide}, {@code cfn
 * restore}, {@code cfn dr restore}) given a file that is not a journal (or a backup set whose
 * manifest is not one): they refuse with one line on stderr and a non-zero exit, and leave the
 * folder exactly as it was (no {@code audit/} or {@code keys/} folder beside the file, no journal
 * created).
 */
class AuditedBadInputTest {
  @TempDir Path tmp;

  /**
   * What the folder holds before the command runs: "garbage" text, an empty file, a memory file.
   */
  enum Input {
    GARBAGE,
    EMPTY,
    MEMORY
  }

  static Stream<Object[]> cases() {
    List<String[]> commands =
        List.of(
            new String[] {"dlq", "purge", "--all", "--journal", "FILE"},
            new String[] {"dlq", "purge", "1", "--journal", "FILE"},
            new String[] {"dlq", "replay", "1", "--journal", "FILE"},
            new String[] {"loop", "decide", "r-1", "--proceed", "--journal", "FILE"},
            new String[] {"restore", "--from", "FILE", "--journal", "NEW"},
            new String[] {"dr", "restore", "--from", "SET", "--home", "HOME"});
    return commands.stream().flatMap(c -> Stream.of(Input.values()).map(i -> new Object[] {i, c}));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("cases")
  void refusesAndCreatesNothing(Input input, String[] command) throws Exception {
    Path file = tmp.resolve("file.db");
    switch (input) {
      case GARBAGE -> Files.writeString(file, "garbage\nnot a journal\n");
      case EMPTY -> Files.write(file, new byte[0]);
      case MEMORY -> SqliteMemoryStore.open(file).close();
    }
    Path set = Files.createDirectories(tmp.resolve("set"));
    Files.copy(file, set.resolve("manifest.json"));
    Files.createDirectories(tmp.resolve("home"));
    List<String> before = listing(tmp);
    byte[] bytes = Files.readAllBytes(file);

    String[] args =
        Stream.of(command)
            .map(
                a ->
                    switch (a) {
                      case "FILE" -> file.toString();
                      case "NEW" -> tmp.resolve("new.db").toString();
                      case "SET" -> set.toString();
                      case "HOME" -> tmp.resolve("home").toString();
                      default -> a;
                    })
            .toArray(String[]::new);
    CliRun run = CliRun.run(args);

    assertThat(run.code()).as(run.out() + run.err()).isNotZero();
    assertThat(run.err().lines().toList())
        .as(run.err())
        .hasSize(1)
        .first()
        .asString()
        .startsWith("cfn " + command[0] + (command[0].equals("restore") ? "" : " " + command[1]))
        .doesNotContain("Exception");
    List<String> after = new ArrayList<>(listing(tmp));
    if (input == Input.MEMORY) {
      // reading a WAL-mode SQLite file, even read-only, makes SQLite create its -wal and -shm
      // files (as any read of it would): those are SQLite's, not cfn's
      after.removeAll(List.of("file.db-shm", "file.db-wal"));
    }
    assertThat(after).as("nothing created or removed").isEqualTo(before);
    assertThat(Files.readAllBytes(file)).as("the file is unchanged").isEqualTo(bytes);
  }

  static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }
}
