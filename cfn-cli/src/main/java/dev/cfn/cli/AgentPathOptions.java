package dev.cfn.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The {@code --agents} option of the commands that run the project's agents ({@code cfn loop
 * run|replay}, {@code cfn swarm run}): written once here, mixed into each, defaulted and checked
 * the same way.
 */
final class AgentPathOptions {
  @Option(
      names = "--agents",
      paramLabel = "PATH",
      description = "Agent files or folders, repeatable (default: .claude/agents).")
  List<Path> agents;

  /**
   * The agent files or folders given, or {@code .claude/agents} when none was; a usage failure
   * (exit 2) naming {@code command} when neither is there. A given path that does not exist is
   * reported by the loader, as an invalid file.
   */
  List<Path> paths(String command) {
    return AgentCommand.pathsOrDefault(agents, command);
  }
}
