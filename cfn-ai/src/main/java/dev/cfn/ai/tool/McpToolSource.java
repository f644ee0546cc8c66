package dev.cfn.ai.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.internal.json.JsonMappers;
import dev.cfn.ai.internal.os.ParentProcess;
import dev.cfn.ai.internal.os.ParentWatch;
import dev.cfn.ai.model.ToolSpec;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.json.schema.jackson2.DefaultJsonSchemaValidator;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tools of one MCP (Model Context Protocol) server, as cfn {@link Tool}s, through the official
 * MCP Java SDK: over stdio (cfn launches the server command and talks JSON-RPC on its standard
 * input and output) or streamable HTTP (a URL).
 *
 * <p>{@link Builder#connect()} starts the connection, performs the MCP handshake and lists the
 * server's tools (every page). Each becomes a tool named {@code mcp__<server>__<tool>}, Claude
 * Code's convention, so that permissions can name one ({@code mcp__github__create_issue}) or all of
 * a server ({@code mcp__github__*}). Register them in a {@link ToolRegistry}: calls then go through
 * the same permissions, validation against the server's input schema, timeout and audit as every
 * other tool. A tool whose input schema is not a valid JSON Schema is left out and listed in {@link
 * #skipped()}.
 *
 * <pre>{@code
 * try (McpToolSource github = McpToolSource.stdio("github", "github-mcp-server", "stdio")
 *     .env("GITHUB_PERSONAL_ACCESS_TOKEN", token)
 *     .connect()) {
 *   registry.registerAll(github.tools());
 *   ...
 * }
 * }</pre>
 *
 * <p>A stdio server does <b>not</b> inherit the JVM's environment, which may hold API keys: it gets
 * only the variables of {@link #INHERITED_ENV} that are set (PATH, HOME, locale, temporary
 * directory, time zone), those the MCP SDK adds for every server ({@code LOGNAME}, {@code SHELL},
 * {@code TERM}, {@code USER}; on Windows {@code APPDATA}, {@code SYSTEMROOT} and the like), and
 * what {@link Builder#env} sets. Pass anything else a server needs with {@code env(...)}.
 *
 * <p>{@link #close()} ends the session and, for stdio, the server process. Environment values and
 * HTTP headers (tokens) are never logged nor put in messages.
 *
 * <p>On Linux a stdio server also dies with the JVM when the JVM is killed without running its
 * shutdown hooks (SIGKILL, the OOM killer), even if it ignores the end of its standard input: it is
 * started in a session of its own under a watcher ({@code cfn-parent-watch}, see {@code
 * ParentWatch}) that SIGKILLs its process group within about a second of the JVM's death. Elsewhere
 * such a server outlives a killed JVM; a server that exits at the end of its input, as the MCP
 * specification asks, does not.
 */
public final class McpToolSource implements AutoCloseable {
  /** The prefix of every MCP tool's name. */
  public static final String PREFIX = "mcp__";

  /**
   * The variables of the JVM's environment a stdio server inherits, when set; every other variable
   * of the JVM (API keys included) is withheld from it.
   */
  public static final Set<String> INHERITED_ENV =
      Set.of("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ");

  /** The default limit on one MCP request (a tool call included). */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

  private static final Logger LOG = LoggerFactory.getLogger(McpToolSource.class);
  private static final Pattern SERVER = Pattern.compile("[A-Za-z0-9-]+(_[A-Za-z0-9-]+)*");
  private static final Pattern INVALID_NAME_CHARS = Pattern.compile("[^A-Za-z0-9_-]");
  private static final int MAX_NAME = 64;

  private final String server;
  private final McpSyncClient client;
  private final List<Tool> tools;
  private final List<String> skipped;
  private final List<ToolRegistry> registeredIn = new ArrayList<>();

  private McpToolSource(
      String server, McpSyncClient client, List<Tool> tools, List<String> skipped) {
    this.server = server;
    this.client = client;
    this.tools = List.copyOf(tools);
    this.skipped = List.copyOf(skipped);
  }

  /**
   * A source that launches {@code command} with {@code args} and speaks MCP over its standard input
   * and output.
   *
   * @param server the server's name in tool names: letters, digits, {@code -} and single {@code _}
   */
  public static Builder stdio(String server, String command, String... args) {
    Objects.requireNonNull(command, "command");
    return new Builder(server, command, List.of(args), null);
  }

  /**
   * Like {@link #stdio(String, String, String...)}, with the command and its arguments in a list.
   */
  public static Builder stdio(String server, List<String> commandLine) {
    if (commandLine.isEmpty()) {
      throw new IllegalArgumentException(
          "the MCP server command line of '" + server + "' is empty");
    }
    return new Builder(
        server, commandLine.get(0), commandLine.subList(1, commandLine.size()), null);
  }

  /**
   * A source that speaks MCP's streamable HTTP transport to {@code endpoint}, such as {@code
   * http://127.0.0.1:8080/mcp}.
   */
  public static Builder http(String server, URI endpoint) {
    Objects.requireNonNull(endpoint, "endpoint");
    if (endpoint.getScheme() == null
        || !(endpoint.getScheme().equals("http") || endpoint.getScheme().equals("https"))
        || endpoint.getHost() == null) {
      throw new IllegalArgumentException(
          "MCP endpoint of '"
              + server
              + "' must be an http or https URL with a host, got "
              + endpoint);
    }
    return new Builder(server, null, List.of(), endpoint);
  }

  /**
   * The cfn name of the MCP tool {@code tool} of {@code server}: {@code mcp__<server>__<tool>},
   * with characters a model does not accept in names replaced by {@code _}, and shortened with a
   * hash suffix when longer than 64 characters.
   */
  public static String toolName(String server, String tool) {
    String name = PREFIX + server + "__" + INVALID_NAME_CHARS.matcher(tool).replaceAll("_");
    if (name.length() <= MAX_NAME) {
      return name;
    }
    String hash = HexFormat.of().formatHex(sha256(tool), 0, 4);
    return name.substring(0, MAX_NAME - 9) + "_" + hash;
  }

  /** The server's name, as in the tool names. */
  public String server() {
    return server;
  }

  /** The server's tools as cfn tools, in the server's order. */
  public List<Tool> tools() {
    return tools;
  }

  /** The server's tools that were left out, each with the reason. */
  public List<String> skipped() {
    return skipped;
  }

  /**
   * Registers every tool of this source in {@code registry} (all or none); {@link #close()} removes
   * them again.
   *
   * @return the tools registered
   * @throws IllegalArgumentException when a name is already taken in the registry
   */
  public List<Tool> registerIn(ToolRegistry registry) {
    registry.registerAll(tools);
    synchronized (registeredIn) {
      registeredIn.add(registry);
    }
    return tools;
  }

  /**
   * Ends the MCP session (for stdio, stops the server process and waits for it to exit) and removes
   * this source's tools from the registries it registered them in.
   */
  @Override
  public void close() {
    synchronized (registeredIn) {
      for (ToolRegistry registry : registeredIn) {
        tools.forEach(t -> registry.unregister(t.name()));
      }
      registeredIn.clear();
    }
    try {
      if (!client.closeGracefully()) {
        client.close();
      }
    } catch (RuntimeException e) {
      LOG.warn("closing MCP server '{}' failed: {}", server, e.toString());
      client.close();
    }
  }

  @Override
  public String toString() {
    return "McpToolSource[" + server + ", " + tools.size() + " tools]";
  }

  /**
   * The process builder a stdio server is started with: its environment holds only the variables of
   * {@link #INHERITED_ENV} that {@code parent} sets. The MCP SDK then adds its defaults and the
   * {@link Builder#env} variables. (The SDK's own builder starts from the whole JVM environment.)
   */
  static ProcessBuilder isolatedProcessBuilder(Map<String, String> parent) {
    ParentProcess.prepareForChildren(); // the server cannot read the JVM's /proc/<pid>/environ
    ProcessBuilder builder = new ProcessBuilder();
    Map<String, String> environment = builder.environment();
    environment.clear();
    for (String name : INHERITED_ENV) {
      String value = parent.get(name);
      if (value != null) {
        environment.put(name, value);
      }
    }
    return builder;
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** Configures and opens an {@link McpToolSource}. */
  public static final class Builder {
    private final String server;
    private final String command;
    private final List<String> args;
    private final URI endpoint;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, String> headers = new LinkedHashMap<>();
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private Duration initializationTimeout = Duration.ofSeconds(30);

    private Builder(String server, String command, List<String> args, URI endpoint) {
      Objects.requireNonNull(server, "server");
      if (server.length() > 32 || !SERVER.matcher(server).matches()) {
        throw new IllegalArgumentException(
            "MCP server name '"
                + server
                + "' is invalid: use 1 to 32 letters, digits, '-' and single '_' (tool names are"
                + " mcp__<server>__<tool>)");
      }
      this.server = server;
      this.command = command;
      this.args = List.copyOf(args);
      this.endpoint = endpoint;
    }

    /**
     * Sets an environment variable of the server process (stdio only); values are never logged. The
     * server inherits little of the JVM's environment (see {@link McpToolSource}), so pass what it
     * needs here.
     */
    public Builder env(String name, String value) {
      requireStdio("env");
      env.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Sets environment variables of the server process (stdio only). */
    public Builder env(Map<String, String> variables) {
      variables.forEach(this::env);
      return this;
    }

    /** Sends {@code name: value} with every HTTP request (HTTP only), such as an authorization. */
    public Builder header(String name, String value) {
      if (endpoint == null) {
        throw new IllegalStateException(
            "header() applies to HTTP MCP servers; use env() for stdio");
      }
      headers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** The limit on one request to the server; {@link #DEFAULT_REQUEST_TIMEOUT} by default. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /** The limit on the handshake, server start-up included; 30 seconds by default. */
    public Builder initializationTimeout(Duration timeout) {
      this.initializationTimeout = positive(timeout, "initializationTimeout");
      return this;
    }

    /**
     * Connects, performs the MCP handshake and lists the tools.
     *
     * @throws McpConnectionException when the server cannot be started or reached, or the handshake
     *     or listing fails; nothing is left running then
     */
    public McpToolSource connect() {
      ObjectMapper mapper = JsonMappers.create(); // the shared recycler pool, as cfn-ai's others
      McpJsonMapper json = new JacksonMcpJsonMapper(mapper);
      McpClientTransport transport = endpoint == null ? stdioTransport(json) : httpTransport(json);
      McpSyncClient client =
          McpClient.sync(transport)
              .requestTimeout(requestTimeout)
              .initializationTimeout(initializationTimeout)
              .clientInfo(McpSchema.Implementation.builder("cfn", "0.1.0").build())
              .jsonSchemaValidator(new DefaultJsonSchemaValidator(mapper))
              .build();
      try {
        client.initialize();
        List<McpSchema.Tool> listed = new ArrayList<>();
        String cursor = null;
        do {
          McpSchema.ListToolsResult page =
              cursor == null ? client.listTools() : client.listTools(cursor);
          listed.addAll(page.tools());
          cursor = page.nextCursor();
        } while (cursor != null && !cursor.isEmpty());
        List<Tool> tools = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (McpSchema.Tool t : listed) {
          wrap(client, t, names, tools, skipped);
        }
        LOG.info(
            "MCP server '{}' ({}) offers {} tools{}",
            server,
            where(),
            tools.size(),
            skipped.isEmpty() ? "" : ", " + skipped.size() + " left out");
        return new McpToolSource(server, client, tools, skipped);
      } catch (RuntimeException e) {
        try {
          client.close();
        } catch (RuntimeException closing) {
          e.addSuppressed(closing);
        }
        throw new McpConnectionException(
            "cannot use MCP server '"
                + server
                + "' ("
                + where()
                + "): "
                + rootMessage(e)
                + "; check that the server starts and speaks MCP, and the timeouts",
            e);
      }
    }

    private void wrap(
        McpSyncClient client,
        McpSchema.Tool t,
        Set<String> names,
        List<Tool> tools,
        List<String> skipped) {
      String name = toolName(server, t.name());
      if (!names.add(name)) {
        skipped.add(
            t.name() + ": its cfn name " + name + " is taken by another tool of the server");
        return;
      }
      JsonNode schema =
          t.inputSchema() == null
              ? ToolJson.object().put("type", "object")
              : ToolJson.MAPPER.valueToTree(t.inputSchema());
      if (schema instanceof ObjectNode o && !o.has("type")) {
        o.put("type", "object");
      }
      String description =
          t.description() != null ? t.description() : t.title() != null ? t.title() : "";
      try {
        ToolSpec spec = new ToolSpec(name, description, schema);
        ArgumentSchema.compile(name, schema);
        boolean readOnly =
            t.annotations() != null && Boolean.TRUE.equals(t.annotations().readOnlyHint());
        tools.add(new McpTool(client, server, t.name(), spec, !readOnly));
      } catch (IllegalArgumentException e) {
        LOG.warn("MCP server '{}': tool '{}' left out: {}", server, t.name(), e.getMessage());
        skipped.add(t.name() + ": " + e.getMessage());
      }
    }

    private McpClientTransport stdioTransport(McpJsonMapper json) {
      List<String> commandLine = new ArrayList<>(args.size() + 1);
      commandLine.add(command);
      commandLine.addAll(args);
      // the server dies with the JVM, even SIGKILLed, even if it ignores the end of its input
      List<String> watched = ParentWatch.wrapInSession(commandLine, Path.of("").toAbsolutePath());
      ServerParameters params =
          ServerParameters.builder(watched.getFirst())
              .args(watched.subList(1, watched.size()))
              .env(env)
              .build();
      StdioClientTransport transport =
          new StdioClientTransport(params, json) {
            @Override
            protected ProcessBuilder getProcessBuilder() {
              return isolatedProcessBuilder(System.getenv());
            }
          };
      transport.setStdErrorHandler(line -> LOG.debug("MCP server '{}' stderr: {}", server, line));
      return transport;
    }

    private McpClientTransport httpTransport(McpJsonMapper json) {
      String base = endpoint.getScheme() + "://" + endpoint.getRawAuthority();
      String path =
          endpoint.getRawPath() == null || endpoint.getRawPath().isEmpty()
              ? "/"
              : endpoint.getRawPath();
      if (endpoint.getRawQuery() != null) {
        path += "?" + endpoint.getRawQuery();
      }
      Map<String, String> sent = Map.copyOf(headers);
      return HttpClientStreamableHttpTransport.builder(base)
          .endpoint(path)
          .jsonMapper(json)
          .connectTimeout(initializationTimeout)
          .addHttpRequestCustomizer(
              (request, method, uri, body, context) -> sent.forEach(request::setHeader))
          .build();
    }

    private String where() {
      return endpoint == null
          ? "command " + command
          : endpoint.getScheme()
              + "://"
              + endpoint.getHost()
              + (endpoint.getPort() < 0 ? "" : ":" + endpoint.getPort())
              + endpoint.getRawPath();
    }

    private void requireStdio(String what) {
      if (endpoint != null) {
        throw new IllegalStateException(
            what + "() applies to stdio MCP servers; use header() for HTTP");
      }
    }

    private static Duration positive(Duration d, String name) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }

    private static String rootMessage(Throwable e) {
      Throwable t = e;
      while (t.getCause() != null && t.getCause() != t) {
        t = t.getCause();
      }
      String message = t.getMessage();
      return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
  }

  /** An MCP server could not be started, reached or listed. */
  public static final class McpConnectionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error with {@code message} saying what failed and what to check. */
    public McpConnectionException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
