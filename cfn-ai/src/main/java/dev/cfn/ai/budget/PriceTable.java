package dev.cfn.ai.budget;

import dev.cfn.ai.model.Usage;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * What model calls cost: for each model, US dollars per million input, output and cached-input
 * tokens. A {@link Budget} prices every call it is charged with through its table.
 *
 * <p><b>The default table</b> ({@link #defaults()}) holds common OpenAI and Anthropic models at the
 * list prices the vendors published for standard (not batch, not priority) API use, as of {@link
 * #DEFAULTS_AS_OF}. <b>Prices change</b>, and new models appear: check the vendors' pricing pages
 * and override or extend the table ({@link #with}, {@link #withAll}, {@link #load}) rather than
 * trusting these figures for billing. Not modelled: Anthropic's cache writes (billed at 1.25× or 2×
 * input; {@link Usage} counts them as plain input), long-context surcharges, batch discounts and
 * regional endpoints.
 *
 * <p><b>Model names</b> are matched case-insensitively: first exactly, then by the longest entry
 * that is a prefix of the name followed by {@code -}, so {@code gpt-4o-2024-08-06} is priced as
 * {@code gpt-4o} and {@code claude-sonnet-4-5-20250929} as {@code claude-sonnet-4-5}, while {@code
 * gpt-4o-mini} keeps its own entry. So a newer variant of a listed family is priced as the family
 * until it is added (which may be too high or too low). A provider prefix such as {@code
 * openai/gpt-4o} is tried without it. A model the table does not know has no price ({@link #find}
 * is empty): see {@link Budget} for what that means for a cost limit.
 *
 * <p><b>YAML</b> ({@link #load}, {@link #parse}), USD per million tokens; {@code cached-input}
 * defaults to {@code input}:
 *
 * <pre>{@code
 * prices:
 *   gpt-4o: {input: 2.50, output: 10.00, cached-input: 1.25}
 *   my-local-model: {input: 0, output: 0}
 * }</pre>
 *
 * <pre>{@code
 * PriceTable prices = PriceTable.defaults().withAll(PriceTable.load(Path.of(".cfn/prices.yaml")));
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class PriceTable {
  /** The day the default prices were taken from the vendors' published price lists. */
  public static final LocalDate DEFAULTS_AS_OF = LocalDate.of(2026, 3, 21);

  private static final Logger LOG = LoggerFactory.getLogger(PriceTable.class);

  /**
   * The price of one model, in US dollars per million tokens.
   *
   * @param inputPerMillion prompt tokens not served from the provider's cache
   * @param outputPerMillion generated tokens (reasoning tokens included, as the vendors bill them)
   * @param cachedInputPerMillion prompt tokens served from the provider's prompt cache
   */
  public record Price(
      BigDecimal inputPerMillion, BigDecimal outputPerMillion, BigDecimal cachedInputPerMillion) {
    /**
     * Checks that every price is given and not negative, and drops trailing zeros, so that equal
     * prices are equal records ({@code 2.50} and {@code 2.5}).
     */
    public Price {
      inputPerMillion = requirePrice(inputPerMillion, "inputPerMillion");
      outputPerMillion = requirePrice(outputPerMillion, "outputPerMillion");
      cachedInputPerMillion = requirePrice(cachedInputPerMillion, "cachedInputPerMillion");
    }

    /**
     * A price from decimal strings, such as {@code Price.of("2.50", "10.00", "1.25")}.
     *
     * @param input USD per million input tokens
     * @param output USD per million output tokens
     * @param cachedInput USD per million cached input tokens
     * @return the price
     */
    public static Price of(String input, String output, String cachedInput) {
      return new Price(new BigDecimal(input), new BigDecimal(output), new BigDecimal(cachedInput));
    }

    /**
     * The cost of {@code usage} at this price, exact: uncached input, cached input and output
     * tokens each at their rate.
     *
     * @param usage the tokens of a call
     * @return the cost in US dollars
     */
    public BigDecimal cost(Usage usage) {
      long cached = Math.min(usage.cachedTokens(), usage.inputTokens());
      long uncached = usage.inputTokens() - cached;
      return inputPerMillion
          .multiply(BigDecimal.valueOf(uncached))
          .add(cachedInputPerMillion.multiply(BigDecimal.valueOf(cached)))
          .add(outputPerMillion.multiply(BigDecimal.valueOf(usage.outputTokens())))
          .movePointLeft(6)
          .stripTrailingZeros();
    }

    private static BigDecimal requirePrice(BigDecimal value, String what) {
      Objects.requireNonNull(value, what);
      if (value.signum() < 0) {
        throw new IllegalArgumentException(what + " must not be negative, got " + value);
      }
      BigDecimal plain = value.stripTrailingZeros();
      return plain.scale() < 0 ? plain.setScale(0) : plain;
    }
  }

  private static final PriceTable DEFAULTS = buildDefaults();

  private final Map<String, Price> prices; // keys lowercase, insertion-ordered
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  private PriceTable(Map<String, Price> prices) {
    this.prices = Collections.unmodifiableMap(new LinkedHashMap<>(prices));
  }

  /**
   * The default table: common OpenAI and Anthropic models at their list prices of {@link
   * #DEFAULTS_AS_OF}. See the class comment: prices change, check them.
   *
   * @return the default table
   */
  public static PriceTable defaults() {
    return DEFAULTS;
  }

  /**
   * A table that prices nothing, to build one from scratch.
   *
   * @return the empty table
   */
  public static PriceTable empty() {
    return new PriceTable(Map.of());
  }

  /**
   * This table with {@code model} priced at {@code price} (replacing its entry, if any).
   *
   * @param model the model name, or a prefix of dated names (see the class comment)
   * @param price its price
   * @return a new table
   */
  public PriceTable with(String model, Price price) {
    Objects.requireNonNull(price, "price");
    Map<String, Price> copy = new LinkedHashMap<>(prices);
    copy.put(normalize(model), price);
    return new PriceTable(copy);
  }

  /**
   * This table with every entry of {@code other} added; {@code other}'s prices win.
   *
   * @param other the overrides and additions
   * @return a new table
   */
  public PriceTable withAll(PriceTable other) {
    Map<String, Price> copy = new LinkedHashMap<>(prices);
    copy.putAll(other.prices);
    return new PriceTable(copy);
  }

  /**
   * Reads a table from a YAML file (format in the class comment). It holds only what the file says:
   * combine it with the defaults using {@code PriceTable.defaults().withAll(PriceTable.load(f))}.
   *
   * @param file the YAML file
   * @return the table
   * @throws IllegalArgumentException when the file cannot be read or is not a price table; the
   *     message names the file and the entry
   */
  public static PriceTable load(Path file) {
    String text;
    try {
      text = dev.cfn.core.io.TextFile.readUtf8(file);
    } catch (dev.cfn.core.io.TextFile.NotTextException e) {
      throw new IllegalArgumentException(
          "the price table " + file + " cannot be read: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the price table " + file + " (" + e + "): check the path", e);
    }
    return parse(text, file.toString());
  }

  /**
   * Reads a table from YAML text (format in the class comment).
   *
   * @param yaml the YAML text
   * @param source where the text came from, for error messages
   * @return the table
   * @throws IllegalArgumentException when the text is not a price table; the message names the
   *     source and the entry
   */
  public static PriceTable parse(String yaml, String source) {
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(source).build()).loadFromString(yaml);
    } catch (YamlEngineException e) {
      throw new IllegalArgumentException(
          source + " is not valid YAML: " + e.getMessage() + "; fix the syntax", e);
    }
    if (!(root instanceof Map<?, ?> top) || !(top.get("prices") instanceof Map<?, ?> entries)) {
      throw new IllegalArgumentException(
          source
              + " is not a price table: it needs a top-level 'prices:' map of model names to"
              + " {input, output, cached-input} in USD per million tokens");
    }
    for (Object key : top.keySet()) {
      if (!"prices".equals(key)) {
        throw new IllegalArgumentException(
            source + ": unknown top-level key '" + key + "'; a price table has only 'prices:'");
      }
    }
    Map<String, Price> parsed = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : entries.entrySet()) {
      String model = String.valueOf(e.getKey());
      String where = source + ": prices." + model;
      if (!(e.getValue() instanceof Map<?, ?> fields)) {
        throw new IllegalArgumentException(
            where + " must be a map such as {input: 2.50, output: 10.00, cached-input: 1.25}");
      }
      for (Object field : fields.keySet()) {
        if (!Set.of("input", "output", "cached-input").contains(String.valueOf(field))) {
          throw new IllegalArgumentException(
              where + ": unknown key '" + field + "'; use input, output and cached-input");
        }
      }
      BigDecimal input = number(fields.get("input"), where + ".input", true);
      BigDecimal output = number(fields.get("output"), where + ".output", true);
      BigDecimal cached = number(fields.get("cached-input"), where + ".cached-input", false);
      try {
        parsed.put(normalize(model), new Price(input, output, cached == null ? input : cached));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(where + ": " + ex.getMessage(), ex);
      }
    }
    return new PriceTable(parsed);
  }

  /**
   * The price of {@code model}: its exact entry, else the longest entry it starts with followed by
   * {@code -}; a provider prefix ({@code openai/}) is tried without it.
   *
   * @param model the model name as requested or as the provider reported it
   * @return its price, or empty when the table does not know it
   */
  public Optional<Price> find(String model) {
    if (model == null || model.isBlank()) {
      return Optional.empty();
    }
    String name = normalize(model);
    Optional<Price> found = lookup(name);
    int slash = name.lastIndexOf('/');
    if (found.isEmpty() && slash >= 0 && slash < name.length() - 1) {
      found = lookup(name.substring(slash + 1));
    }
    return found;
  }

  /**
   * The cost of a call of {@code model} that used {@code usage}.
   *
   * @param usage the tokens of the call
   * @param model the model
   * @return the cost in US dollars, or empty when the table does not know the model
   */
  public Optional<BigDecimal> cost(Usage usage, String model) {
    Objects.requireNonNull(usage, "usage");
    return find(model).map(p -> p.cost(usage));
  }

  /**
   * Every entry, by lowercase model name, in the order they were added.
   *
   * @return an unmodifiable view
   */
  public Map<String, Price> entries() {
    return prices;
  }

  /** Logs once per model and table that calls of {@code model} are counted as free. */
  void warnUnpriced(String model) {
    String name = model == null || model.isBlank() ? "(unnamed model)" : model;
    if (warned.add(name)) {
      LOG.warn(
          "model '{}' has no price in the price table, so its calls count as costing $0; add it"
              + " (PriceTable.with, or a prices YAML file) to count its cost",
          name);
    }
  }

  @Override
  public String toString() {
    return "PriceTable[" + prices.size() + " models]";
  }

  private Optional<Price> lookup(String name) {
    Price exact = prices.get(name);
    if (exact != null) {
      return Optional.of(exact);
    }
    String best = null;
    for (String key : prices.keySet()) {
      if (name.length() > key.length()
          && name.startsWith(key)
          && name.charAt(key.length()) == '-'
          && (best == null || key.length() > best.length())) {
        best = key;
      }
    }
    return best == null ? Optional.empty() : Optional.of(prices.get(best));
  }

  private static String normalize(String model) {
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("a priced model needs a name");
    }
    return model.strip().toLowerCase(Locale.ROOT);
  }

  private static BigDecimal number(Object value, String where, boolean required) {
    if (value == null) {
      if (required) {
        throw new IllegalArgumentException(where + " is missing: give USD per million tokens");
      }
      return null;
    }
    try {
      return switch (value) {
        case Integer i -> BigDecimal.valueOf(i);
        case Long l -> BigDecimal.valueOf(l);
        case java.math.BigInteger b -> new BigDecimal(b);
        case Double d -> new BigDecimal(Double.toString(d));
        case String s -> new BigDecimal(s.strip());
        default -> throw new NumberFormatException(value.getClass().getSimpleName());
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          where + " is '" + value + "', not a number of USD per million tokens", e);
    }
  }

  private static PriceTable buildDefaults() {
    Map<String, Price> p = new LinkedHashMap<>();
    // OpenAI, standard tier: input, output, cached input
    p.put("gpt-5", Price.of("1.25", "10.00", "0.125"));
    p.put("gpt-5-pro", Price.of("15.00", "120.00", "15.00"));
    p.put("gpt-5-mini", Price.of("0.25", "2.00", "0.025"));
    p.put("gpt-5-nano", Price.of("0.05", "0.40", "0.005"));
    p.put("gpt-4.1", Price.of("2.00", "8.00", "0.50"));
    p.put("gpt-4.1-mini", Price.of("0.40", "1.60", "0.10"));
    p.put("gpt-4.1-nano", Price.of("0.10", "0.40", "0.025"));
    p.put("gpt-4o", Price.of("2.50", "10.00", "1.25"));
    p.put("gpt-4o-mini", Price.of("0.15", "0.60", "0.075"));
    p.put("o3", Price.of("2.00", "8.00", "0.50"));
    p.put("o3-mini", Price.of("1.10", "4.40", "0.55"));
    p.put("o3-pro", Price.of("20.00", "80.00", "20.00"));
    p.put("o4-mini", Price.of("1.10", "4.40", "0.275"));
    // Anthropic: base input, output, cache hits
    p.put("claude-opus-4-6", Price.of("5", "25", "0.50"));
    p.put("claude-opus-4-5", Price.of("5", "25", "0.50"));
    p.put("claude-opus-4-1", Price.of("15", "75", "1.50"));
    p.put("claude-opus-4", Price.of("15", "75", "1.50"));
    p.put("claude-sonnet-4-6", Price.of("3", "15", "0.30"));
    p.put("claude-sonnet-4-5", Price.of("3", "15", "0.30"));
    p.put("claude-sonnet-4", Price.of("3", "15", "0.30"));
    p.put("claude-3-7-sonnet", Price.of("3", "15", "0.30"));
    p.put("claude-haiku-4-5", Price.of("1", "5", "0.10"));
    p.put("claude-3-5-haiku", Price.of("0.80", "4", "0.08"));
    return new PriceTable(p);
  }
}
