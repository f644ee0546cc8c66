package dev.cfn.server.mcp;

import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cfn as an MCP server over stdio (the official MCP Java SDK's server side): newline-delimited
 * JSON-RPC on a pair of streams, the standard input and output of {@code cfn mcp serve} for Claude
 * Code. The output stream carries protocol frames only; the caller sends every log elsewhere.
 *
 * <p>Tools: {@code agents_list}, {@code agent_validate}, {@code run_task}, {@code memory_get},
 * {@code memory_search}, {@code memory_put} and {@code status}. The client is the local user who
 * started the process ({@link McpPrincipal#localUser()}): reading tools are allowed to it, {@code
 * run_task} and {@code memory_put} only with the {@link McpPermission}s of the settings. Every call
 * is authorized, its arguments checked against the tool's JSON Schema, and recorded in the {@link
 * McpAudit}; bad arguments, a denied tool and a failing handler answer a tool error that says what
 * is wrong and how to fix it, and the server goes on.
 *
 * <pre>{@code
 * try (CfnMcpServer server =
 *     CfnMcpServer.serve(McpSettings.of(home), McpAudit.log(), System.in, stdout)) {
 *   server.awaitEnd(); // until the client closes the input
 * }
 * }</pre>
 */
public final class CfnMcpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CfnMcpServer.class);

  private final McpSyncServer server;
  private final ToolCatalog catalog;
  private final MemoryFile memory;
  private final CountDownLatch inputEnded;
  private jakarta.servlet.http.HttpServlet servlet; // set by http() only

  private CfnMcpServer(
      McpSyncServer server, ToolCatalog catalog, MemoryFile memory, CountDownLatch inputEnded) {
    this.server = server;
    this.catalog = catalog;
    this.memory = memory;
    this.inputEnded = inputEnded;
  }

  /**
   * Starts serving on {@code in} and {@code out} as {@link McpPrincipal#localUser()}; returns at
   * once, the SDK's threads read and answer.
   *
   * @param settings where the state is and what the client may do
   * @param audit where each tool call is recorded
   * @param in the client's requests (the process's standard input)
   * @param out the answers: protocol frames only (the process's standard output)
   */
  public static CfnMcpServer serve(
      McpSettings settings, McpAudit audit, InputStream in, OutputStream out) {
    return serve(settings, McpPrincipal.localUser(), audit, in, out);
  }

  /**
   * Like {@link #serve(McpSettings, McpAudit, InputStream, OutputStream)}, for {@code principal}.
   */
  public static CfnMcpServer serve(
      McpSettings settings,
      McpPrincipal principal,
      McpAudit audit,
      InputStream in,
      OutputStream out) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
    MemoryFile memory = new MemoryFile(settings.memoryFile());
    ToolCatalog catalog = catalog(settings, principal, audit, memory);

    CountDownLatch ended = new CountDownLatch(1);
    McpJsonMapper json = new JacksonMcpJsonMapper(ToolCatalog.JSON);
    McpSyncServer server =
        describe(
                McpServer.sync(
                    new StdioServerTransportProvider(json, new EndWatch(in, ended), out)),
                catalog)
            .build();
    LOG.info(
        "cfn MCP server on stdio for {}: {} tools, allowed beyond reading: {}",
        principal,
        catalog.tools().size(),
        settings.allowed().isEmpty()
            ? "nothing"
            : settings.allowed().stream().map(McpPermission::label).sorted().toList());
    return new CfnMcpServer(server, catalog, memory, ended);
  }

  private static ToolCatalog catalog(
      McpSettings settings, McpPrincipal principal, McpAudit audit, MemoryFile memory) {
    return catalog(settings, principal, audit, memory, List.of());
  }

  private static ToolCatalog catalog(
      McpSettings settings,
      McpPrincipal principal,
      McpAudit audit,
      MemoryFile memory,
      List<NodeTool> nodeTools) {
    AgentTools agents = new AgentTools(settings);
    RunTool runs = new RunTool(settings, agents, memory);
    AtomicReference<ToolCatalog> ref = new AtomicReference<>();
    List<ToolDef> defs = new ArrayList<>(agents.tools());
    defs.addAll(runs.tools());
    defs.addAll(new MemoryTools(memory, settings.memoryAs()).tools());
    defs.addAll(new StatusTool(settings, principal, agents, memory, runs, ref::get).tools());
    nodeTools.forEach(t -> defs.add(ToolCatalog.def(t)));
    ToolCatalog catalog = new ToolCatalog(defs, settings, principal, audit);
    ref.set(catalog);
    return catalog;
  }

  private static McpServer.SyncSpecification<?> describe(
      McpServer.SyncSpecification<?> spec, ToolCatalog catalog) {
    return spec.serverInfo("cfn", version())
        .instructions(
            "cfn runs AI agents defined in Markdown files (.claude/agents). List them with"
                + " agents_list, check a definition with agent_validate, run a task with"
                + " run_task, share notes through memory_get/memory_put/memory_search, and see"
                + " the node with status."
                + (catalog.tools().stream().anyMatch(t -> t.name().startsWith("graph"))
                    ? " On a node: submit and follow task graphs (graph_submit, graphs_list,"
                        + " graph_show, graph_cancel), make and inspect swarms (swarm_create,"
                        + " swarms_list, swarm_show, swarm_join, swarm_leave) and submit, follow"
                        + " and decide CFN Loop runs (loop_submit, loops_list, loop_show,"
                        + " loop_decide)."
                    : ""))
        .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
        .validateToolInputs(false) // the catalog checks them, and audits the refusals
        .tools(catalog.specifications());
  }

  /**
   * The same tools over MCP's streamable HTTP transport, for {@code cfn serve}: a servlet to mount
   * at {@code endpoint}, behind the server's own authentication. Each request carries its caller
   * (the request attribute {@link McpCaller#CONTEXT_KEY}, put there by the server once it has
   * checked the request's token); a call with none is refused as the session's caller, which is
   * allowed nothing beyond reading. {@link #servlet()} gives the servlet; {@link #close()} ends the
   * sessions and closes the memory file.
   *
   * @param settings where the state is; its {@code allowed} set is what a request without a caller
   *     may do
   * @param audit where each tool call is recorded, with the caller's principal
   * @param endpoint the path the servlet is mounted at, such as {@code /mcp}
   */
  public static CfnMcpServer http(McpSettings settings, McpAudit audit, String endpoint) {
    return http(settings, audit, endpoint, List.of());
  }

  /**
   * Like {@link #http(McpSettings, McpAudit, String)}, serving {@code nodeTools} besides cfn's own
   * tools: {@code cfn serve}'s task graphs, swarms and CFN Loop runs, each authorized by its
   * handler with the {@link McpCaller#credential()} of the request.
   */
  public static CfnMcpServer http(
      McpSettings settings, McpAudit audit, String endpoint, List<NodeTool> nodeTools) {
    Objects.requireNonNull(settings, "settings");
    MemoryFile memory = new MemoryFile(settings.memoryFile());
    ToolCatalog catalog =
        catalog(settings, new McpPrincipal("anonymous", "http"), audit, memory, nodeTools);
    McpJsonMapper json = new JacksonMcpJsonMapper(ToolCatalog.JSON);
    HttpServletStreamableServerTransportProvider transport =
        HttpServletStreamableServerTransportProvider.builder()
            .jsonMapper(json)
            .mcpEndpoint(endpoint)
            .contextExtractor(
                request -> {
                  Object caller = request.getAttribute(McpCaller.CONTEXT_KEY);
                  return caller == null
                      ? McpTransportContext.EMPTY
                      : McpTransportContext.create(Map.of(McpCaller.CONTEXT_KEY, caller));
                })
            .build();
    McpSyncServer server = describe(McpServer.sync(transport), catalog).build();
    CfnMcpServer s = new CfnMcpServer(server, catalog, memory, new CountDownLatch(0));
    s.servlet = transport;
    return s;
  }

  /** The servlet of an {@link #http} server; null for stdio. */
  public jakarta.servlet.http.HttpServlet servlet() {
    return servlet;
  }

  /** The tools' names, in the order they are listed. */
  public List<String> toolNames() {
    return catalog.tools().stream().map(ToolDef::name).toList();
  }

  /** Waits until the client closes the input (or it fails). */
  public void awaitEnd() throws InterruptedException {
    inputEnded.await();
  }

  /** Waits at most {@code timeout} for the input to end; true when it did. */
  public boolean awaitEnd(Duration timeout) throws InterruptedException {
    return inputEnded.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops serving and closes the memory file. */
  @Override
  public void close() {
    try {
      server.closeGracefully();
    } catch (RuntimeException e) {
      LOG.debug("closing the MCP session: {}", e.toString());
    } finally {
      memory.close();
    }
  }

  private static String version() {
    String v = CfnMcpServer.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** The client's input, counting down a latch when it ends or fails. */
  private static final class EndWatch extends FilterInputStream {
    private final CountDownLatch ended;

    EndWatch(InputStream in, CountDownLatch ended) {
      super(in);
      this.ended = ended;
    }

    @Override
    public int read() throws IOException {
      try {
        int b = super.read();
        if (b < 0) {
          ended.countDown();
        }
        return b;
      } catch (IOException e) {
        ended.countDown();
        throw e;
      }
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      try {
        int n = super.read(buffer, offset, length);
        if (n < 0) {
          ended.countDown();
        }
        return n;
      } catch (IOException e) {
        ended.countDown();
        throw e;
      }
    }
  }
}
