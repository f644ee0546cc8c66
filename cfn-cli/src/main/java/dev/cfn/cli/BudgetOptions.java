package dev.cfn.cli;

import java.math.BigDecimal;
import picocli.CommandLine.Option;

/**
 * The spending limit of the commands that run agents and take one ({@code cfn swarm run}, {@code
 * cfn task submit|resume}): written once here, mixed into each, checked the same way.
 */
final class BudgetOptions {
  @Option(
      names = "--budget-usd",
      paramLabel = "USD",
      description = "At most this many US dollars for the run's model calls (all its agents').")
  BigDecimal usd;

  /** Checks the limit (bad input exits 2 before anything runs). */
  void validate() {
    if (usd != null && usd.signum() <= 0) {
      throw CommandFailure.usage(
          "--budget-usd must be above 0, was " + usd.toPlainString(), "such as --budget-usd 0.50");
    }
  }
}
