package dev.cfn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.AgentId;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn swarm status|create|join|leave --server URL}: the swarms of a running node ({@code cfn
 * serve}), through its API. A swarm made this way lives in the node; these commands have no local
 * form, so {@code --server} is required.
 */
final class SwarmNodeCommands {
  private SwarmNodeCommands() {}

  static NodeClient connect(ServerOptions server, String command) {
    if (!server.remote()) {
      throw CommandFailure.usage(
          command + " acts on the swarms of a running node, and no --server is given",
          "add --server URL (as cfn serve printed it) and a token (--token-file FILE or "
              + ServerOptions.TOKEN_ENV
              + ")");
    }
    return server.connect();
  }

  static AgentId member(String text) {
    try {
      AgentId id = AgentId.parse(text);
      if (id.key().contains("/")) {
        throw new IllegalArgumentException("the key holds a '/'");
      }
      return id;
    } catch (IllegalArgumentException e) {
      throw CommandFailure.usage(
          "member '" + text + "' is not TYPE/KEY: " + e.getMessage(), "such as reviewer/1");
    }
  }

  static void checkName(String name) {
    if (name == null || !name.matches("[A-Za-z0-9._:-]{1,255}")) {
      throw CommandFailure.usage(
          "swarm name '" + name + "' is not 1 to 255 letters, digits or . _ : -",
          "such as --name review");
    }
  }

  static String path(String name) {
    return "/v1/swarms/" + NodeClient.segment(name);
  }

  static int print(PrintWriter out, JsonNode s, boolean json) {
    if (json) {
      out.println(AgentCommand.json(s));
      out.flush();
      return ExitCode.OK;
    }
    out.println(
        "swarm "
            + s.path("name").asText()
            + ": "
            + s.path("effective").asText()
            + " (built "
            + s.path("topology").asText()
            + "), "
            + s.path("members").asInt()
            + " member(s), "
            + s.path("refused").asLong()
            + " message(s) refused, $"
            + s.path("budget").path("costUsd").asText("0")
            + " spent");
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"MEMBER", "ROLE", "COORDINATOR", "QUEUED", "MAY MESSAGE"});
    for (JsonNode m : s.path("memberList")) {
      List<String> to = new ArrayList<>();
      m.path("mayMessage").forEach(t -> to.add(t.asText()));
      rows.add(
          new String[] {
            m.path("id").asText(),
            m.path("role").asText(),
            m.path("coordinator").isNull() ? "-" : m.path("coordinator").asText("-"),
            Integer.toString(m.path("queued").asInt()),
            m.has("mayMessage") ? DlqCommand.oneLine(String.join(", ", to), 60) : "(not listed)"
          });
    }
    Table.print(out, rows);
    s.path("recentRefusalsByRule")
        .properties()
        .forEach(e -> out.println("refused recently by " + e.getKey() + ": " + e.getValue()));
    out.flush();
    return ExitCode.OK;
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = {
        "Shows a running node's swarms (--server), or one: members, roles, who may message whom,"
            + " refusals and spending."
      })
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "One swarm.")
    String name;

    @Option(names = "--json", description = "Print the answer as JSON.")
    boolean json;

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() {
      if (name != null) {
        checkName(name);
      }
      NodeClient node = connect(server, "cfn swarm status");
      PrintWriter out = spec.commandLine().getOut();
      if (name != null) {
        JsonNode s = node.get(path(name)).orElseThrow(() -> noSwarm(node, name));
        return print(out, s, json);
      }
      JsonNode all = node.get("/v1/swarms").orElseThrow().path("swarms");
      if (json) {
        out.println(AgentCommand.json(all));
      } else {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"SWARM", "TOPOLOGY", "MEMBERS", "REFUSED", "COST USD"});
        for (JsonNode s : all) {
          rows.add(
              new String[] {
                s.path("name").asText(),
                s.path("effective").asText(),
                Integer.toString(s.path("members").asInt()),
                Long.toString(s.path("refused").asLong()),
                s.path("budget").path("costUsd").asText("0")
              });
        }
        Table.print(out, rows);
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  static CommandFailure noSwarm(NodeClient node, String name) {
    return CommandFailure.failed(
        "no swarm '" + name + "' on the node at " + node.base(),
        "cfn swarm status --server " + node.base() + " lists them");
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Makes a swarm in a running node (--server): its topology is enforced by the node's bus."
      })
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The swarm's name.")
    String name;

    @Option(
        names = "--topology",
        paramLabel = "T",
        description = "mesh, hierarchical, star, ring or auto (default).")
    String topology = "auto";

    @Option(
        names = "--member",
        paramLabel = "TYPE/KEY",
        description = "A first member (repeatable), spawned if not running.")
    List<String> members = new ArrayList<>();

    @Option(names = "--json", description = "Print the answer as JSON.")
    boolean json;

    @Mixin ServerOptions server = new ServerOptions();

    @Override
    public Integer call() {
      checkName(name);
      try {
        dev.cfn.flow.swarm.Topology.parse(topology);
      } catch (IllegalArgumentException e) {
        throw CommandFailure.usage("--topology: " + e.getMessage(), "such as --topology mesh");
      }
      List<Map<String, String>> list = new ArrayList<>();
      for (String m : members) {
        AgentId id = member(m);
        list.add(Map.of("type", id.type(), "key", id.key()));
      }
      NodeClient node = connect(server, "cfn swarm create");
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("name", name);
      body.put("topology", topology.strip().toLowerCase(java.util.Locale.ROOT));
      body.put("members", list);
      JsonNode s = node.call("POST", "/v1/swarms", body).orElseThrow();
      return print(spec.commandLine().getOut(), s, json);
    }
  }

  /**
   * What {@code join} and {@code leave} share: the swarm, the member, the node; the member change
   * itself and the line it prints are the subclass's.
   */
  abstract static class MemberChange implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The swarm.")
    String name;

    @Mixin ServerOptions server = new ServerOptions();

    /** The TYPE/KEY text the user gave. */
    abstract String agent();

    /** Makes the change on the node and returns the line that says what it did. */
    abstract String change(NodeClient node, AgentId id);

    @Override
    public final Integer call() {
      checkName(name);
      AgentId id = member(agent());
      NodeClient node = connect(server, "cfn swarm " + spec.name());
      String done = change(node, id);
      PrintWriter out = spec.commandLine().getOut();
      out.println(done);
      out.flush();
      return ExitCode.OK;
    }
  }

  @Command(
      name = "join",
      mixinStandardHelpOptions = true,
      description = {
        "Adds an agent to a swarm of a running node (--server); spawned if not running."
      })
  static final class Join extends MemberChange {
    @Parameters(index = "1", paramLabel = "TYPE/KEY", description = "The agent.")
    String agent;

    @Override
    String agent() {
      return agent;
    }

    @Override
    String change(NodeClient node, AgentId id) {
      JsonNode m =
          node.call("POST", path(name) + "/members", Map.of("type", id.type(), "key", id.key()))
              .orElseThrow(() -> noSwarm(node, name));
      return id + " joined swarm " + name + " as " + m.path("role").asText() + " on " + node.base();
    }
  }

  @Command(
      name = "leave",
      mixinStandardHelpOptions = true,
      description = {
        "Takes an agent out of a swarm of a running node (--server); it keeps running."
      })
  static final class Leave extends MemberChange {
    @Parameters(index = "1", paramLabel = "TYPE/KEY", description = "The member.")
    String agent;

    @Override
    String agent() {
      return agent;
    }

    @Override
    String change(NodeClient node, AgentId id) {
      node.call(
              "DELETE",
              path(name)
                  + "/members/"
                  + NodeClient.segment(id.type())
                  + "/"
                  + NodeClient.segment(id.key()),
              null)
          .orElseThrow(
              () ->
                  CommandFailure.failed(
                      "swarm '" + name + "' on the node at " + node.base() + " has no member " + id,
                      "cfn swarm status " + name + " --server " + node.base() + " lists them"));
      return id + " left swarm " + name + " on " + node.base();
    }
  }
}
