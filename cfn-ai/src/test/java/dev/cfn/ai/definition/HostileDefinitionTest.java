package dev.cfn.ai.definition;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agent files written to hurt the loader (issue 10, items 3, 4 and 12): each test writes the
 * hostile file into a temporary folder beside good agents and loads the folder for real.
 */
class HostileDefinitionTest {
  @TempDir Path dir;

  private void goodAgents() throws Exception {
    Files.writeString(
        dir.resolve("alpha.md"), "---\nname: alpha\ndescription: a\ntools: Read\n---\nA\n");
    Files.writeString(
        dir.resolve("omega.md"), "---\nname: omega\ndescription: o\ntools: Read\n---\nO\n");
  }

  private static Problem onlyError(LoadResult r, Path file) {
    List<Problem> errors = r.errors().stream().filter(p -> p.file().equals(file)).toList();
    assertThat(errors).as("errors of %s in %s", file, r.problems()).hasSize(1);
    return errors.get(0);
  }

  /** The 4.5 KB "billion laughs" of issue 10 item 3: 24 levels of doubling aliases. */
  static String aliasBomb(int levels) {
    StringBuilder yaml = new StringBuilder("---\nname: bomb\ndescription: boom\n");
    yaml.append("b0: &b0 [").append("x,".repeat(1999)).append("x]\n");
    for (int n = 1; n <= levels; n++) {
      yaml.append("b").append(n).append(": &b").append(n);
      yaml.append(" [*b").append(n - 1).append(", *b").append(n - 1).append("]\n");
    }
    return yaml.append("---\nprompt\n").toString();
  }

  @Test
  void anAliasBombIsRefusedAtItsFirstAliasAndTheOtherAgentsLoad() throws Exception {
    goodAgents();
    String bomb = aliasBomb(24);
    assertThat(bomb.length()).isBetween(4_000, 5_000);
    Path file = Files.writeString(dir.resolve("bomb.md"), bomb);

    LoadResult r = DefinitionLoader.load(dir);

    assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("alpha", "omega");
    Problem p = onlyError(r, file);
    assertThat(p.line()).isEqualTo(5); // b1: &b1 [*b0, *b0]
    assertThat(p.message())
        .isEqualTo("the frontmatter uses a YAML alias (*b0), which agent files may not use");
    assertThat(p.fix()).contains("write the value out in full");
    assertThat(p.toString()).startsWith(file + ":5: error:");
  }

  @Test
  void aSelfReferencingAliasIsRefusedToo() {
    LoadResult r =
        DefinitionLoader.parse(
            "---\nname: a\ndescription: b\nloop: &l [*l]\n---\nx\n", Path.of("loop.md"));
    assertThat(r.definitions()).isEmpty();
    assertThat(r.errors())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.line()).isEqualTo(4);
              assertThat(p.message()).contains("YAML alias (*l)");
            });
  }

  @Test
  void anAnchorWithoutAnAliasIsHarmlessAndLoads() {
    LoadResult r =
        DefinitionLoader.parse(
            "---\nname: a\ndescription: &d b\ntools: Read\n---\nx\n", Path.of("a.md"));
    assertThat(r.problems()).isEmpty();
    assertThat(r.definitions().get(0).description()).isEqualTo("b");
  }

  @Test
  void deepNestingIsRefusedWhileParsingWithoutAStackOverflow() throws Exception {
    goodAgents();
    String deep =
        "---\nname: deep\ndescription: d\nx: " + "[".repeat(2000) + "]".repeat(2000) + "\n---\nx\n";
    Path flow = Files.writeString(dir.resolve("deep.md"), deep);
    StringBuilder block = new StringBuilder("---\nname: block\ndescription: d\n");
    for (int i = 0; i < 200; i++) {
      block.append(" ".repeat(i)).append("k").append(i).append(":\n");
    }
    Path blockFile = Files.writeString(dir.resolve("deep-block.md"), block.append("---\nx\n"));

    LoadResult r = DefinitionLoader.load(dir);

    assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("alpha", "omega");
    Problem p = onlyError(r, flow);
    assertThat(p.line()).isEqualTo(4);
    assertThat(p.message()).isEqualTo("the frontmatter is nested more than 64 lists or maps deep");
    Problem q = onlyError(r, blockFile);
    assertThat(q.message()).isEqualTo("the frontmatter is nested more than 64 lists or maps deep");
    assertThat(q.line()).isEqualTo(68); // k64, the first key of the 65th map
  }

  @Test
  void aSparseThreeGigabyteFileIsRefusedFromItsSizeWithoutBeingRead() throws Exception {
    goodAgents();
    Path huge = dir.resolve("huge.md");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.write(
          "---\nname: huge\ndescription: h\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      f.setLength(3L << 30); // sparse: 3 GiB of zeros that take no disk space
    }
    // Reading it whole would need a 3 GiB array, which the JVM refuses (OutOfMemoryError); the
    // loader answers from Files.size instead.
    assertThat(Files.size(huge)).isEqualTo(3L << 30);

    LoadResult r = DefinitionLoader.load(dir);

    assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("alpha", "omega");
    Problem p = onlyError(r, huge);
    assertThat(p.line()).isZero();
    assertThat(p.message())
        .isEqualTo(
            "the file is 3221225472 bytes, more than the 1048576 bytes (1 MiB) an agent file may have, so it is not read");
  }

  @Test
  void aFileJustOverTheCapIsRefusedAndOneAtTheCapIsRead() throws Exception {
    Path over = dir.resolve("over.md");
    Files.writeString(
        over,
        "---\nname: over\ndescription: o\n---\n" + "p".repeat(DefinitionLoader.MAX_FILE_BYTES));
    assertThat(onlyError(DefinitionLoader.load(over), over).message())
        .contains("more than the 1048576 bytes");

    String head = "---\nname: at\ndescription: a\ntools: Read\n---\n";
    Path at =
        Files.writeString(
            dir.resolve("at.md"),
            head + "p".repeat(DefinitionLoader.MAX_FILE_BYTES - head.length()));
    assertThat(Files.size(at)).isEqualTo(DefinitionLoader.MAX_FILE_BYTES);
    LoadResult r = DefinitionLoader.load(at);
    assertThat(r.problems()).isEmpty();
    assertThat(r.definitions()).singleElement().extracting(AgentDefinition::name).isEqualTo("at");
  }

  @Test
  void aFrontmatterOverItsCapIsRefusedBeforeParsing() throws Exception {
    // 300 KiB of fields: under the file cap, over the frontmatter cap
    StringBuilder fm = new StringBuilder("---\nname: big\ndescription: b\n");
    for (int i = 0; fm.length() < 300 * 1024; i++) {
      fm.append("field").append(i).append(": ").append("v".repeat(100)).append('\n');
    }
    Path big = Files.writeString(dir.resolve("big.md"), fm.append("---\nx\n"));

    Problem p = onlyError(DefinitionLoader.load(big), big);
    assertThat(p.line()).isEqualTo(1);
    assertThat(p.message())
        .endsWith("characters long, more than the 262144 an agent file may have");
  }

  @Test
  void aFrontmatterJustUnderItsCapOfManyFieldsStillLoads() throws Exception {
    StringBuilder fm = new StringBuilder("---\nname: wide\ndescription: w\ntools: Read\n");
    int n = 0;
    while (fm.length() < 250 * 1024) {
      fm.append("field").append(n++).append(": ").append("v".repeat(100)).append('\n');
    }
    Path wide = Files.writeString(dir.resolve("wide.md"), fm.append("---\nx\n"));

    LoadResult r = DefinitionLoader.load(wide);
    int fields = n;

    assertThat(r.definitions())
        .singleElement()
        .satisfies(d -> assertThat(d.extra()).hasSize(fields));
    // one warning per unknown field, but a file's problems are capped so output stays readable
    assertThat(r.problems()).hasSize(101);
    assertThat(r.problems().get(100).message())
        .isEqualTo(
            (fields - 100)
                + " more problems from this line on are not listed (at most 100 per file)");
    assertThat(r.problems().get(100).isError()).isFalse();
  }

  @Test
  void controlCharactersInValuesAreErrorsAndPrintEscaped() {
    Path file = Path.of("forge.md");
    LoadResult r =
        DefinitionLoader.parse(
            "---\nname: \"evil\\nok\"\ndescription: d\ntype: \"a\\rb\"\n"
                + "provider: \"x\\e[31m\"\ntools: [\"Read\\nBash\"]\n"
                + "capabilities: \"x\\nagents/ok.md:1: error: forged\"\n---\nx\n",
            file);

    assertThat(r.definitions()).isEmpty();
    assertThat(r.errors())
        .extracting(Problem::line, Problem::message)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(2, "name contains the control character U+000A"),
            org.assertj.core.groups.Tuple.tuple(4, "type contains the control character U+000D"),
            org.assertj.core.groups.Tuple.tuple(
                5, "provider contains the control character U+001B"),
            org.assertj.core.groups.Tuple.tuple(
                6, "a tool name contains the control character U+000A"),
            org.assertj.core.groups.Tuple.tuple(
                7,
                "capabilities must be a list, but it is the text 'x\nagents/ok.md:1: error: forged'"));
    for (Problem p : r.problems()) {
      assertThat(p.toString()).doesNotContain("\n").doesNotContain("\r").doesNotContain("\u001b");
    }
    assertThat(r.errors().get(4).toString())
        .startsWith(
            "forge.md:7: error: capabilities must be a list, but it is the text 'x\\nagents/");
  }

  @Test
  void aDescriptionMayHoldLineBreaksButNoOtherControlCharacters() {
    LoadResult ok =
        DefinitionLoader.parse(
            "---\nname: a\ndescription: \"one\\n\\ttwo\"\ntools: Read\n---\nx\n", Path.of("a.md"));
    assertThat(ok.problems()).isEmpty();
    assertThat(ok.definitions().get(0).description()).isEqualTo("one\n\ttwo");

    LoadResult bad =
        DefinitionLoader.parse("---\nname: a\ndescription: \"bell\\a\"\n---\nx\n", Path.of("a.md"));
    assertThat(bad.errors())
        .singleElement()
        .extracting(Problem::message)
        .isEqualTo("description contains the control character U+0007");
  }

  @Test
  void aFileWhosePathHasANewlineIsNotReadAndPrintsEscaped() throws Exception {
    goodAgents();
    Path evil =
        Files.writeString(
            dir.resolve("x.md\nalpha.md:1: error: forged.md"),
            "---\nname: evil\ndescription: e\n---\nx\n");

    LoadResult r = DefinitionLoader.load(dir);

    assertThat(r.definitions()).extracting(AgentDefinition::name).containsExactly("alpha", "omega");
    Problem p = onlyError(r, evil);
    assertThat(p.message()).contains("path contains a control character");
    assertThat(p.toString())
        .doesNotContain("\n")
        .contains("x.md\\nalpha.md:1: error: forged.md: error:");
  }

  @Test
  void printableEscapesOnlyWhatBreaksALine() {
    assertThat(Problem.printable("plain text, ünïcode ✓")).isEqualTo("plain text, ünïcode ✓");
    assertThat(Problem.printable("a\nb\rc\td\u001b[0m\u2028\u202E"))
        .isEqualTo("a\\nb\\rc\\td\\u001B[0m\\u2028\\u202E");
  }
}
