package dev.cfn.cli;

import dev.cfn.ai.budget.PriceTable;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.ai.model.ModelRouter;
import dev.cfn.ai.model.ProviderTrust;
import dev.cfn.testkit.Cassette;
import dev.cfn.testkit.ModelServer;
import java.io.PrintWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import picocli.CommandLine.Option;

/**
 * Where the model calls of {@code cfn swarm run} and {@code cfn task submit|resume} go: the
 * providers of {@code .cfn/providers.yaml} in {@code --project} and the environment, as for {@code
 * cfn run}, or a cassette ({@code --replay}) answered by the test model server on loopback.
 */
final class ModelOptions {
  @Option(
      names = "--project",
      paramLabel = "DIR",
      description = "Where .cfn/providers.yaml is looked up (default: the current folder).")
  Path project = Path.of(".");

  @Option(
      names = "--replay",
      paramLabel = "CASSETTE",
      description =
          "Answer the model calls from a cassette (cfn testkit record) instead of a provider:"
              + " offline, no key.")
  Path replay;

  @Option(
      names = "--trust-providers",
      description = "Trust the project's .cfn/providers.yaml as it is now (see cfn run --help).")
  boolean trustProviders;

  @Option(
      names = "--prices",
      paramLabel = "FILE",
      description =
          "Model prices in US dollars per million tokens (YAML: prices: {my-model: {input: 0.5,"
              + " output: 1.5}}), over the defaults and the project's .cfn/prices.yaml; needed by"
              + " --budget-usd for a model the defaults do not price.")
  Path prices;

  /** The project's price file, read when present. */
  static final Path PROJECT_PRICES = Path.of(".cfn", "prices.yaml");

  private PriceTable table;

  /** The providers to use, and the replay server to close after (null without --replay). */
  record Models(ModelConfig config, ModelServer replayServer) implements AutoCloseable {
    @Override
    public void close() {
      if (replayServer != null) {
        replayServer.close();
      }
    }
  }

  /** Checks the options (bad input exits 2 before anything runs). */
  void validate() {
    if (!Files.isDirectory(project)) {
      throw CommandFailure.usage(
          "--project " + project + " is not a folder", "give an existing folder");
    }
    if (replay != null) {
      PathChecks.existingFile("--replay", replay, "cassette");
    }
    if (prices != null) {
      PathChecks.existingFile("--prices", prices, "price table");
    }
    table = PriceTable.defaults();
    for (Path file : new Path[] {project.resolve(PROJECT_PRICES), prices}) {
      if (file != null && Files.isRegularFile(file)) {
        try {
          table = table.withAll(PriceTable.load(file));
        } catch (IllegalArgumentException e) {
          throw CommandFailure.usage(
              ErrorReport.oneLine(e.getMessage()),
              "write it as prices: {MODEL: {input: USD, output: USD}}, per million tokens");
        }
      }
    }
  }

  /** The price table (after {@link #validate()}): defaults, the project's file, --prices. */
  PriceTable prices() {
    return table != null ? table : PriceTable.defaults();
  }

  /**
   * With a dollar limit ({@code budgetUsd} not null), refuses (exit 2, before anything runs) when
   * an agent's model has no price: its cost could not be counted, so the budget would refuse its
   * first call. The models are resolved as the agents will resolve them.
   */
  void requirePrices(BigDecimal budgetUsd, Collection<AgentDefinition> agents, String command) {
    if (budgetUsd == null) {
      return;
    }
    Map<String, TreeSet<String>> unpriced = new TreeMap<>();
    PrintWriter quiet = new PrintWriter(Writer.nullWriter());
    try (Models m = open(quiet, command);
        ModelRouter router = ModelRouter.create(m.config())) {
      for (AgentDefinition d : agents) {
        String model;
        try {
          model = router.resolve(d.name(), d.type(), d.provider(), d.model()).model();
        } catch (ModelConfigException e) {
          continue; // reported as the agent starts, as without a dollar limit
        }
        if (prices().find(model).isEmpty()) {
          unpriced.computeIfAbsent(model, k -> new TreeSet<>()).add(d.name());
        }
      }
    }
    if (!unpriced.isEmpty()) {
      String first = unpriced.keySet().iterator().next();
      throw CommandFailure.usage(
          "--budget-usd counts dollars by the price table, which has no price for "
              + String.join(
                  ", ",
                  unpriced.entrySet().stream()
                      .map(e -> "model '" + e.getKey() + "' (agents " + e.getValue() + ")")
                      .toList())
              + ", so its calls could not be counted",
          "give its price in "
              + project.resolve(PROJECT_PRICES)
              + " or --prices FILE (prices: {"
              + first
              + ": {input: 0, output: 0}} for a free local model), or leave out --budget-usd");
    }
  }

  /** Opens the providers; {@code command} names the command in warnings. */
  Models open(PrintWriter err, String command) {
    if (replay != null) {
      Cassette cassette = TestkitCommand.load(replay);
      if (cassette.size() == 0) {
        throw CommandFailure.usage(
            replay + " holds no recorded calls", "record some with cfn testkit record");
      }
      System.setProperty(
          "org.slf4j.simpleLogger.log.dev.cfn.ai.budget.PriceTable",
          System.getProperty("org.slf4j.simpleLogger.log.dev.cfn.ai.budget.PriceTable", "error"));
      ModelServer server = ModelServer.start(cassette);
      return new Models(RunCommand.replayConfig(cassette, server), server);
    }
    ProviderTrust trust = ProviderTrust.load(RunCommand.environment);
    Path providersFile = project.resolve(ModelConfig.DEFAULT_FILE);
    if (trustProviders && Files.isRegularFile(providersFile)) {
      trust = trust.trust(providersFile);
    }
    ModelConfig config = ModelConfig.discover(project, RunCommand.environment, trust);
    for (String warning : config.warnings()) {
      err.println(command + ": warning: " + warning);
    }
    return new Models(config, null);
  }
}
