package dev.cfn.ai.definition;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.DefinitionRepair.Outcome;
import dev.cfn.ai.definition.DefinitionRepair.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn agent fix}'s engine on real files in a temporary folder. */
class DefinitionRepairTest {
  @TempDir Path dir;

  private static String read(Path file) throws Exception {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private static Outcome only(List<Outcome> outcomes) {
    assertThat(outcomes).hasSize(1);
    return outcomes.get(0);
  }

  @Test
  void quotesAnUnquotedColonKeepsABackupAndTheFileLoads() throws Exception {
    String original =
        "---\nname: reviewer\ndescription: Use when: the user asks for a \"review\"\n"
            + "tools: Read, Grep\n---\nReview code.\n";
    Path file = Files.writeString(dir.resolve("reviewer.md"), original);
    assertThat(DefinitionLoader.load(file).hasErrors()).isTrue();

    Outcome o = only(DefinitionRepair.repair(false, file));

    assertThat(o.status()).isEqualTo(Status.FIXED);
    assertThat(o.written()).isTrue();
    assertThat(o.backup()).isEqualTo(dir.resolve("reviewer.md.bak"));
    assertThat(read(o.backup())).isEqualTo(original);
    assertThat(o.changes())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.line()).isEqualTo(3);
              assertThat(c.what()).startsWith("quoted the value of description");
              assertThat(c.after())
                  .containsExactly("description: \"Use when: the user asks for a \\\"review\\\"\"");
            });
    assertThat(read(file))
        .isEqualTo(
            "---\nname: reviewer\ndescription: \"Use when: the user asks for a \\\"review\\\"\"\n"
                + "tools: Read, Grep\n---\nReview code.\n");
    LoadResult r = DefinitionLoader.load(file);
    assertThat(r.problems()).isEmpty();
    assertThat(r.definitions().get(0).description())
        .isEqualTo("Use when: the user asks for a \"review\"");
    assertThat(dir.toFile().list()).containsExactlyInAnyOrder("reviewer.md", "reviewer.md.bak");
  }

  @Test
  void foldsContinuationLinesAsYamlWouldAndLeavesBlockScalarsAlone() throws Exception {
    String original =
        """
        ---
        name: planner
        description: Plans work. Examples:
          first a plan, then

          the steps
        notes: |
          Note: block scalars may hold ': ' freely
        hooks:
          pre: echo "starting: now"
          post: "echo done: ok"
        ---
        Plan.
        """;
    Path file = Files.writeString(dir.resolve("planner.md"), original);

    Outcome o = only(DefinitionRepair.repair(false, file));

    assertThat(o.status()).as("%s", o.remaining()).isEqualTo(Status.FIXED);
    assertThat(o.changes()).extracting(DefinitionRepair.Change::line).containsExactly(3, 10);
    AgentDefinition d = DefinitionLoader.load(file).definitions().get(0);
    assertThat(d.description()).isEqualTo("Plans work. Examples: first a plan, then\nthe steps");
    assertThat(d.extra().get("notes")).isEqualTo("Note: block scalars may hold ': ' freely\n");
    assertThat(d.hooks())
        .containsEntry("pre", "echo \"starting: now\"")
        .containsEntry("post", "echo done: ok");
  }

  @Test
  void replacesTabIndentationAndKeepsCrlfAndTheByteOrderMark() throws Exception {
    String original =
        "\uFEFF---\r\nname: tabs\r\ndescription: d\r\nhooks:\r\n\tpre: echo\r\n---\r\nx\r\n";
    Path file = Files.writeString(dir.resolve("tabs.md"), original);

    Outcome o = only(DefinitionRepair.repair(false, file));

    assertThat(o.status()).isEqualTo(Status.FIXED);
    assertThat(o.changes())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.line()).isEqualTo(5);
              assertThat(c.before()).containsExactly("\tpre: echo");
              assertThat(c.after()).containsExactly("  pre: echo");
            });
    assertThat(read(file))
        .isEqualTo(
            "\uFEFF---\r\nname: tabs\r\ndescription: d\r\nhooks:\r\n  pre: echo\r\n---\r\nx\r\n");
  }

  @Test
  void quotesValuesThatStartWithACharacterYamlReserves() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("at.md"),
            "---\nname: at\ndescription: `cfn` helper for @team, see C:\\docs # not a comment\n"
                + "tools: Read\n---\nx\n");
    assertThat(DefinitionLoader.load(file).hasErrors()).isTrue();

    Outcome o = only(DefinitionRepair.repair(false, file));

    assertThat(o.status()).isEqualTo(Status.FIXED);
    assertThat(o.changes().get(0).what())
        .isEqualTo(
            "quoted the value of description, which starts with `, a character YAML reserves");
    assertThat(DefinitionLoader.load(file).definitions().get(0).description())
        .isEqualTo("`cfn` helper for @team, see C:\\docs # not a comment");
  }

  @Test
  void tabsInsideABlockScalarAreTextAndStay() throws Exception {
    String original =
        "---\nname: tsv\ndescription: d\nexample: |\n  col1\tcol2\n  \tindented text\n"
            + "hooks:\n\tpre: echo\n---\nx\n";
    Path file = Files.writeString(dir.resolve("tsv.md"), original);

    Outcome o = only(DefinitionRepair.repair(false, file));

    assertThat(o.status()).isEqualTo(Status.FIXED);
    assertThat(o.changes()).extracting(DefinitionRepair.Change::line).containsExactly(8);
    assertThat(DefinitionLoader.load(file).definitions().get(0).extra().get("example"))
        .isEqualTo("col1\tcol2\n\tindented text\n");
  }

  @Test
  void removesBlankLinesAboveTheFrontmatter() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("late.md"), "\n\n---\nname: late\ndescription: d\ntools: Read\n---\nx\n");
    Outcome o = only(DefinitionRepair.repair(false, file));
    assertThat(o.status()).isEqualTo(Status.FIXED);
    assertThat(read(file)).isEqualTo("---\nname: late\ndescription: d\ntools: Read\n---\nx\n");
  }

  @Test
  void aFileThatLoadsIsNeverTouched() throws Exception {
    // loads, though it has warnings (unknown field, a bare word as model)
    Path file =
        Files.writeString(
            dir.resolve("ok.md"), "---\nname: ok\ndescription: d\nfoo: bar\n---\nx\n");
    long modified = Files.getLastModifiedTime(file).toMillis();

    Outcome o = only(DefinitionRepair.repair(false, file));

    assertThat(o.status()).isEqualTo(Status.ALREADY_LOADS);
    assertThat(o.changes()).isEmpty();
    assertThat(o.written()).isFalse();
    assertThat(Files.getLastModifiedTime(file).toMillis()).isEqualTo(modified);
    assertThat(dir.toFile().list()).containsExactly("ok.md");
  }

  @Test
  void aDryRunReportsTheChangesAndWritesNothing() throws Exception {
    String original = "---\nname: a\ndescription: Do this: that\n---\nx\n";
    Path file = Files.writeString(dir.resolve("a.md"), original);

    Outcome o = only(DefinitionRepair.repair(true, file));

    assertThat(o.status()).isEqualTo(Status.FIXED);
    assertThat(o.written()).isFalse();
    assertThat(o.backup()).isNull();
    assertThat(o.changes()).hasSize(1);
    assertThat(read(file)).isEqualTo(original);
    assertThat(dir.toFile().list()).containsExactly("a.md");
  }

  @Test
  void anExistingBackupIsNeverOverwritten() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("a.md"), "---\nname: a\ndescription: Do this: that\n---\nx\n");
    Files.writeString(dir.resolve("a.md.bak"), "precious");
    Files.writeString(dir.resolve("a.md.bak.1"), "precious too");

    Outcome o = only(DefinitionRepair.repair(false, file));

    assertThat(o.backup()).isEqualTo(dir.resolve("a.md.bak.2"));
    assertThat(read(dir.resolve("a.md.bak"))).isEqualTo("precious");
    assertThat(read(dir.resolve("a.md.bak.1"))).isEqualTo("precious too");
    assertThat(read(o.backup())).contains("Do this: that");
  }

  @Test
  void theRewrittenFileKeepsItsPermissionsAndNoTemporaryFileIsLeft() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("a.md"), "---\nname: a\ndescription: Do this: that\n---\nx\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));

    only(DefinitionRepair.repair(false, file));

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-r-----");
    assertThat(dir.toFile().list()).containsExactlyInAnyOrder("a.md", "a.md.bak");
  }

  @Test
  void whatCannotBeFixedIsReportedAndHelpfulRewritesAreStillMade() throws Exception {
    // the colon is fixable; the missing name is not
    Path file =
        Files.writeString(dir.resolve("noname.md"), "---\ndescription: Do this: that\n---\nx\n");
    Path broken = Files.writeString(dir.resolve("broken.md"), "no frontmatter at all\n");

    List<Outcome> outcomes = DefinitionRepair.repair(false, dir);

    assertThat(outcomes).extracting(Outcome::file).containsExactly(broken, file);
    assertThat(outcomes).allSatisfy(o -> assertThat(o.loads()).isFalse());
    assertThat(outcomes.get(0).changes()).isEmpty();
    assertThat(outcomes.get(0).written()).isFalse();
    assertThat(outcomes.get(1).written()).isTrue();
    assertThat(outcomes.get(1).remaining())
        .extracting(Problem::message)
        .containsExactly("the frontmatter has no name");
  }

  @Test
  void aSymbolicLinkIsFollowedAndStaysALink() throws Exception {
    Path real =
        Files.writeString(
            dir.resolve("real.md"), "---\nname: a\ndescription: Do this: that\n---\nx\n");
    Files.createDirectories(dir.resolve("agents"));
    Path link = Files.createSymbolicLink(dir.resolve("agents/a.md"), real);

    Outcome o = only(DefinitionRepair.repair(false, link));

    assertThat(o.status()).isEqualTo(Status.FIXED);
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(read(real)).contains("description: \"Do this: that\"");
    assertThat(o.backup()).isEqualTo(dir.resolve("real.md.bak"));
  }

  @Test
  void hostileFilesAreReportedNotRepaired() throws Exception {
    Path bomb = Files.writeString(dir.resolve("bomb.md"), HostileDefinitionTest.aliasBomb(24));
    Outcome o = only(DefinitionRepair.repair(false, bomb));
    assertThat(o.status()).isEqualTo(Status.STILL_INVALID);
    assertThat(o.remaining())
        .singleElement()
        .extracting(Problem::message)
        .asString()
        .contains("YAML alias");
    assertThat(dir.toFile().list()).containsExactly("bomb.md");
  }
}
