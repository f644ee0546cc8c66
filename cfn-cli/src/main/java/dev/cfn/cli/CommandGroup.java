package dev.cfn.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that only holds subcommands ({@code cfn agent}, {@code cfn chaos}, ...): run alone, it
 * says which subcommands there are and exits with {@link ExitCode#USAGE}.
 */
abstract class CommandGroup implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    String name = spec.qualifiedName();
    String names =
        spec.subcommands().entrySet().stream()
            .filter(e -> !e.getValue().getCommandSpec().usageMessage().hidden())
            .map(Map.Entry::getKey)
            .filter(n -> !n.equals("help"))
            .collect(Collectors.joining(", "));
    throw new CommandFailure(
        ExitCode.USAGE, "missing a command: " + names, name + " --help describes them", null);
  }
}
