package dev.cfn.ai.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.model.Usage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Lookup by exact and dated names, the defaults, overrides from code and YAML, and bad files. */
class PriceTableTest {
  @TempDir Path dir;

  @Test
  void datedAndProviderPrefixedNamesFindTheirFamilyButNotALongerSibling() {
    PriceTable t = PriceTable.defaults();
    assertThat(t.find("gpt-4o-2024-08-06")).isEqualTo(t.find("gpt-4o"));
    assertThat(t.find("gpt-4o-mini-2024-07-18")).isEqualTo(t.find("gpt-4o-mini"));
    assertThat(t.find("gpt-4o-mini")).isNotEqualTo(t.find("gpt-4o"));
    assertThat(t.find("claude-sonnet-4-5-20250929")).isEqualTo(t.find("claude-sonnet-4-5"));
    assertThat(t.find("Claude-Opus-4-1-20250805").orElseThrow().outputPerMillion())
        .isEqualByComparingTo("75");
    assertThat(t.find("openai/gpt-4o")).isEqualTo(t.find("gpt-4o"));
    assertThat(t.find("gpt-4")).as("gpt-4 is not a prefix entry of gpt-4o").isEmpty();
    assertThat(t.find("gpt-4oo")).isEmpty();
    assertThat(t.find("llama-3")).isEmpty();
    assertThat(t.find(null)).isEmpty();
  }

  @Test
  void theDefaultsPriceCommonModelsAsTheVendorsList() {
    PriceTable t = PriceTable.defaults();
    // a million input tokens, half of them cached, and a million output tokens
    Usage usage = new Usage(1_000_000, 1_000_000, 500_000);
    assertThat(t.cost(usage, "gpt-4o"))
        .hasValueSatisfying(c -> assertThat(c).isEqualByComparingTo("11.875"));
    assertThat(t.cost(usage, "claude-sonnet-4-5"))
        .hasValueSatisfying(c -> assertThat(c).isEqualByComparingTo("16.65"));
    assertThat(PriceTable.DEFAULTS_AS_OF.getYear()).isGreaterThanOrEqualTo(2025);
    assertThat(t.entries()).containsKeys("gpt-5", "gpt-4.1-mini", "claude-haiku-4-5");
  }

  @Test
  void codeAndYamlOverrideAndExtendTheDefaults() throws Exception {
    Path file = dir.resolve("prices.yaml");
    Files.writeString(
        file,
        """
        # USD per million tokens
        prices:
          gpt-4o: {input: 2.00, output: 8, cached-input: "0.5"}
          my-local-model: {input: 0, output: 0}
        """);
    PriceTable t =
        PriceTable.defaults()
            .withAll(PriceTable.load(file))
            .with("glm-4.6", PriceTable.Price.of("0.60", "2.20", "0.11"));
    assertThat(t.find("gpt-4o").orElseThrow()).isEqualTo(PriceTable.Price.of("2.00", "8", "0.5"));
    assertThat(t.find("my-local-model").orElseThrow().cachedInputPerMillion())
        .as("cached-input defaults to input")
        .isEqualByComparingTo("0");
    assertThat(t.find("glm-4.6").orElseThrow().outputPerMillion()).isEqualByComparingTo("2.20");
    assertThat(t.find("gpt-5")).as("defaults kept").isPresent();
    assertThat(PriceTable.defaults().find("gpt-4o").orElseThrow().inputPerMillion())
        .as("the defaults are immutable")
        .isEqualByComparingTo("2.50");
  }

  @Test
  void badFilesNameTheEntryAndTheFix() {
    assertThatThrownBy(() -> PriceTable.parse("models: {}", "p.yaml"))
        .hasMessageContaining("p.yaml is not a price table");
    assertThatThrownBy(() -> PriceTable.parse("prices:\n  m: {input: 1}\n", "p.yaml"))
        .hasMessageContaining("p.yaml: prices.m.output is missing");
    assertThatThrownBy(() -> PriceTable.parse("prices:\n  m: {input: 1, output: x}\n", "p.yaml"))
        .hasMessageContaining("prices.m.output is 'x', not a number");
    assertThatThrownBy(() -> PriceTable.parse("prices:\n  m: {input: -1, output: 1}\n", "p.yaml"))
        .hasMessageContaining("must not be negative");
    assertThatThrownBy(
            () -> PriceTable.parse("prices:\n  m: {input: 1, output: 1, cache: 1}\n", "p.yaml"))
        .hasMessageContaining("unknown key 'cache'");
    assertThatThrownBy(() -> PriceTable.parse("prices: [", "p.yaml"))
        .hasMessageContaining("p.yaml is not valid YAML");
    assertThatThrownBy(() -> PriceTable.load(dir.resolve("missing.yaml")))
        .hasMessageContaining("cannot read the price table");
  }
}
