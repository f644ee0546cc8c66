package dev.cfn.cli;

import static dev.cfn.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn agent fix}, run in-process on real files in a temporary folder. */
class AgentFixCommandTest {
  @TempDir Path dir;

  private static final String COLON =
      "---\nname: colon\ndescription: Use when: the user asks\ntools: Read\n---\nx\n";
  private static final String TABS =
      "---\nname: tabs\ndescription: d\ntools: Read\nhooks:\n\tpre: echo hi\n---\nx\n";
  private static final String GOOD = "---\nname: good\ndescription: d\ntools: Read\n---\nx\n";

  @Test
  void fixesAFolderReportsEachFileAndEverythingLoadsAfterwards() throws Exception {
    Path colon = Files.writeString(dir.resolve("colon.md"), COLON);
    Path tabs = Files.writeString(dir.resolve("tabs.md"), TABS);
    Path good = Files.writeString(dir.resolve("good.md"), GOOD);
    assertThat(run("agent", "validate", dir.toString()).code()).isEqualTo(1);

    CliRun fix = run("agent", "fix", dir.toString());

    assertThat(fix.code()).as(fix.out() + fix.err()).isZero();
    assertThat(fix.out().lines())
        .containsExactly(
            "fixed " + colon + " (original kept as " + colon + ".bak)",
            "  line 3: quoted the value of description, whose ': ' YAML would read as the start of"
                + " another field",
            "    - description: Use when: the user asks",
            "    + description: \"Use when: the user asks\"",
            "ok " + good + ": loads already, left alone",
            "fixed " + tabs + " (original kept as " + tabs + ".bak)",
            "  line 6: indented with spaces instead of tabs, which YAML does not allow",
            "    - \\tpre: echo hi",
            "    +   pre: echo hi",
            "3 files: 2 fixed, 1 loaded already, 0 still invalid");
    assertThat(Files.readString(good)).isEqualTo(GOOD);
    assertThat(Files.readString(colon.resolveSibling("colon.md.bak"))).isEqualTo(COLON);
    // .bak files are not .md files: validating the folder sees the three agents only
    CliRun validate = run("agent", "validate", dir.toString());
    assertThat(validate.code()).as(validate.out()).isZero();
    assertThat(validate.out()).endsWith("3 files, 3 valid, 0 invalid, 0 warnings\n");
  }

  @Test
  void aDryRunPrintsTheChangesAndWritesNothing() throws Exception {
    Path colon = Files.writeString(dir.resolve("colon.md"), COLON);

    CliRun fix = run("agent", "fix", "--dry-run", colon.toString());

    assertThat(fix.code()).isZero();
    assertThat(fix.out())
        .startsWith("would fix " + colon + "\n")
        .contains("    + description: \"Use when: the user asks\"")
        .endsWith(
            "1 file: 1 would be fixed, 0 loaded already, 0 still invalid (dry run: nothing was"
                + " written)\n");
    assertThat(Files.readString(colon)).isEqualTo(COLON);
    assertThat(dir.toFile().list()).containsExactly("colon.md");
  }

  @Test
  void exitsWithOneWhenAFileStillDoesNotLoad() throws Exception {
    Path prose = Files.writeString(dir.resolve("prose.md"), "Just some notes.\n");
    Files.writeString(dir.resolve("good.md"), GOOD);

    CliRun fix = run("agent", "fix", dir.toString());

    assertThat(fix.code()).isEqualTo(1);
    assertThat(fix.out())
        .contains("not fixed " + prose + ": nothing cfn agent fix can rewrite\n")
        .contains("  " + prose + ":1: error: no frontmatter")
        .endsWith("2 files: 0 fixed, 1 loaded already, 1 still invalid\n");
    assertThat(run("agent", "fix", dir.resolve("missing").toString()).code()).isEqualTo(1);
  }

  @Test
  void theAgentCommandListsFix() {
    assertThat(run("agent", "--help").out()).contains("fix").contains("Rewrites the common YAML");
  }

  @Test
  void anEmptyPathOrNoPathIsAUsageError() {
    CliRun empty = run("agent", "fix", "");
    assertThat(empty.code()).isEqualTo(2);
    assertThat(empty.err()).startsWith("cfn agent fix: ").doesNotContain("\tat ");
    assertThat(run("agent", "fix").code()).isEqualTo(2);
  }

  @Test
  void aFileNameWithANewlineCannotForgeLinesOfValidateOrListOutput() throws Exception {
    Files.writeString(dir.resolve("good.md"), GOOD);
    Files.writeString(
        dir.resolve("x.md\ngood.md:1: error: forged.md"), GOOD.replace("good", "evil"));

    CliRun validate = run("agent", "validate", dir.toString());
    CliRun list = run("agent", "list", dir.toString());

    assertThat(validate.code()).isEqualTo(1);
    assertThat(validate.out().lines())
        .noneMatch(l -> l.startsWith("good.md:1:"))
        .anyMatch(l -> l.contains("x.md\\ngood.md:1: error: forged.md: error: the file's path"))
        .anyMatch(
            l -> l.startsWith("invalid: ") && l.endsWith("x.md\\ngood.md:1: error: forged.md"));
    assertThat(list.out().lines()).noneMatch(l -> l.startsWith("good.md:1:"));
    assertThat(list.out()).contains("1 agent\n").doesNotContain("evil");
    assertThat(list.err()).contains("x.md\\ngood.md").doesNotContain("x.md\ngood.md");
  }
}
