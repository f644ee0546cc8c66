package dev.cfn.cli;

import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.server.mcp.CfnMcpServer;
import dev.cfn.server.mcp.McpAudit;
import dev.cfn.server.mcp.McpPermission;
import dev.cfn.server.mcp.McpSettings;
import dev.cfn.store.audit.AuditException;
import dev.cfn.store.audit.AuditLog;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cfn mcp}: cfn as an MCP server. */
@Command(
    name = "mcp",
    mixinStandardHelpOptions = true,
    description =
        "cfn as an MCP (Model Context Protocol) server for Claude Code and other clients.",
    subcommands = {McpCommand.Serve.class})
final class McpCommand extends CommandGroup {

  /**
   * {@code cfn mcp serve}: serves cfn's MCP tools on standard input and output until the client
   * closes the input ({@link CfnMcpServer}). Standard output carries MCP frames only: every log,
   * warning and stray print goes to standard error.
   */
  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description = {
        "Serves cfn's MCP tools over stdio (JSON-RPC on standard input and output), until the"
            + " client closes the input. Logs go to standard error only.",
        "Add it to Claude Code with: claude mcp add cfn -- ./cfn mcp serve",
        "Tools: agents_list, agent_validate, run_task, memory_get, memory_search, memory_put,"
            + " status. Reading is allowed; run_task and memory_put only with --allow."
      })
  static final class Serve implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--home",
        paramLabel = "DIR",
        description =
            "The folder whose .cfn holds the state (memory.db, providers.yaml) (default: the"
                + " current folder).")
    Path home = Path.of(".");

    @Option(
        names = "--agents",
        paramLabel = "PATH",
        description = "Agent files or folders, repeatable (default: .claude/agents in --home).")
    List<Path> agents;

    @Option(
        names = "--allow",
        paramLabel = "LIST",
        split = ",",
        description =
            "What MCP clients may do beyond reading: run (run_task: model calls that cost money)"
                + " and memory-write (memory_put). Default: neither.")
    List<String> allow;

    @Option(
        names = "--as",
        paramLabel = "AGENT",
        description =
            "The memory principal the client acts as (type/key); its access levels apply"
                + " (default: "
                + McpSettings.DEFAULT_MEMORY_AGENT
                + ").")
    String as = McpSettings.DEFAULT_MEMORY_AGENT;

    @Option(names = "--swarm", paramLabel = "SWARM", description = "The principal's swarm.")
    String swarm;

    @Option(names = "--project", paramLabel = "PROJECT", description = "The principal's project.")
    String project;

    @Override
    public Integer call() throws Exception {
      McpSettings settings = settings();
      PrintWriter err = spec.commandLine().getErr();
      if (System.console() != null) {
        err.println(
            "cfn mcp serve: waiting for an MCP client on standard input (an MCP client starts this"
                + " command: claude mcp add cfn -- ./cfn mcp serve); Ctrl-D ends it");
        err.flush();
      }
      // The protocol owns the real standard output; anything printed through System.out from
      // here on (a library's stray print) lands on standard error instead of corrupting a frame.
      OutputStream protocol = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
      System.setOut(System.err);
      AuditLog auditLog = openAudit(err);
      McpAudit audit = auditLog == null ? McpAudit.log() : McpAudit.store(auditLog);
      try (auditLog;
          CfnMcpServer server = CfnMcpServer.serve(settings, audit, System.in, protocol)) {
        // SIGTERM (how a client usually stops its server): close the memory file on the way out
        Thread closer = new Thread(server::close, "cfn-mcp-close");
        Runtime.getRuntime().addShutdownHook(closer);
        server.awaitEnd();
        Runtime.getRuntime().removeShutdownHook(closer);
      }
      return ExitCode.OK;
    }

    /**
     * The audit log under {@code HOME/.cfn/audit}, or null when another process (a running {@code
     * cfn serve}) holds it: the calls are then written to the {@code cfn.mcp.audit} logger, and a
     * warning says so.
     */
    private AuditLog openAudit(PrintWriter err) {
      try {
        return AuditLog.open(home.resolve(".cfn"));
      } catch (AuditException e) {
        err.println(
            "cfn mcp serve: warning: the audit log is not available ("
                + e.getMessage()
                + "); tool calls are audited to the log only (-v shows them)");
        err.flush();
        return null;
      }
    }

    /** The settings from the options, every bad one refused before anything starts. */
    McpSettings settings() {
      if (home.toString().isEmpty() || !Files.isDirectory(home)) {
        throw CommandFailure.usage(
            "--home " + home + " is not a folder", "give an existing folder, such as --home .");
      }
      List<Path> paths = new ArrayList<>();
      if (agents == null || agents.isEmpty()) {
        paths.add(home.resolve(McpSettings.DEFAULT_AGENTS));
      } else {
        for (Path p : agents) {
          if (p.toString().isEmpty() || !Files.exists(p)) {
            throw CommandFailure.usage(
                "--agents '" + p + "' does not exist", "give an agent file or folder");
          }
          paths.add(p);
        }
      }
      Set<McpPermission> allowed = EnumSet.noneOf(McpPermission.class);
      if (allow != null) {
        for (String item : allow) {
          if (item.isBlank()) {
            throw CommandFailure.usage(
                "--allow has an empty item",
                "write --allow " + McpPermission.labels().replace(", ", ","));
          }
          try {
            allowed.addAll(McpPermission.parse(item));
          } catch (IllegalArgumentException e) {
            throw CommandFailure.usage(
                "--allow " + e.getMessage(), "such as --allow run,memory-write");
          }
        }
      }
      if (as.startsWith("@")) {
        throw CommandFailure.usage(
            "--as '" + as + "': ids starting with @ are reserved (the operator's)",
            "give an agent id, such as --as claude/1");
      }
      int slash = as.indexOf('/');
      if (slash <= 0 || slash == as.length() - 1 || as.isBlank()) {
        throw CommandFailure.usage(
            "--as '" + as + "' is not an agent id", "write it type/key, such as --as claude/1");
      }
      for (String[] named : new String[][] {{"--swarm", swarm}, {"--project", project}}) {
        if (named[1] != null && named[1].isBlank()) {
          throw CommandFailure.usage(named[0] + " is blank", "give a name, or leave it out");
        }
      }
      return new McpSettings(
          home, paths, allowed, MemoryAccessor.agent(as, swarm, project), RunCommand.environment);
    }
  }
}
