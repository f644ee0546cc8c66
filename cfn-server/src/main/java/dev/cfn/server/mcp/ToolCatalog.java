package dev.cfn.server.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryAccessor;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tools of the cfn MCP server and the one path every call takes: authorize (the tool's
 * permission was granted) → validate (the arguments against its input schema) → scope (the caller's
 * scopes allow what the arguments name, as the mirrored REST route checks) → handle → audit. A call
 * refused at a stage runs nothing after it; every call, refused or not, is recorded once in the
 * {@link McpAudit}. Nothing a handler throws escapes as a protocol error: a refusal becomes a tool
 * error ({@code isError: true}) whose text says what is wrong and how to fix it.
 */
final class ToolCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(ToolCatalog.class);
  static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper PRETTY =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Map<String, ToolDef> tools = new LinkedHashMap<>();
  private final Map<String, InputSchema> schemas = new LinkedHashMap<>();
  private final McpSettings settings;
  private final McpCaller sessionCaller;
  private final McpAudit audit;

  /** The caller of the call being handled, for the handlers that act as it (memory). */
  private static final ScopedValue<McpCaller> CALLER = ScopedValue.newInstance();

  private final Map<McpAudit.Outcome, AtomicLong> counts = new EnumMap<>(McpAudit.Outcome.class);

  ToolCatalog(List<ToolDef> defs, McpSettings settings, McpPrincipal principal, McpAudit audit) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.sessionCaller =
        new McpCaller(
            Objects.requireNonNull(principal, "principal"),
            settings.allowed(),
            settings.memoryAs());
    this.audit = Objects.requireNonNull(audit, "audit");
    for (McpAudit.Outcome o : McpAudit.Outcome.values()) {
      counts.put(o, new AtomicLong());
    }
    for (ToolDef def : defs) {
      if (tools.putIfAbsent(def.name(), def) != null) {
        throw new IllegalArgumentException("two MCP tools are named " + def.name());
      }
      schemas.put(def.name(), InputSchema.compile(def.schema()));
    }
  }

  /** The tools, in the order they were given. */
  List<ToolDef> tools() {
    return List.copyOf(tools.values());
  }

  /** How many calls ended each way so far. */
  Map<McpAudit.Outcome, Long> counts() {
    Map<McpAudit.Outcome, Long> snapshot = new EnumMap<>(McpAudit.Outcome.class);
    counts.forEach((k, v) -> snapshot.put(k, v.get()));
    return snapshot;
  }

  /** The tools as the SDK serves them. */
  List<SyncToolSpecification> specifications() {
    return tools.values().stream().map(this::specification).toList();
  }

  private SyncToolSpecification specification(ToolDef def) {
    String description = def.description();
    if (def.requires() != null && !settings.allows(def.requires())) {
      description +=
          " Not allowed on this server: it was started without --allow "
              + def.requires().label()
              + ".";
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> schema = JSON.convertValue(def.schema(), Map.class);
    McpSchema.Tool tool =
        McpSchema.Tool.builder()
            .name(def.name())
            .description(description)
            .inputSchema(schema)
            .annotations(
                new McpSchema.ToolAnnotations.Builder()
                    .readOnlyHint(def.readOnly())
                    .destructiveHint(false)
                    .openWorldHint(def.requires() == McpPermission.RUN)
                    .build())
            .build();
    return SyncToolSpecification.builder()
        .tool(tool)
        .callHandler(
            (exchange, request) ->
                call(def.name(), request.arguments(), caller(exchange.transportContext())))
        .build();
  }

  /**
   * The caller the HTTP transport resolved from the request's token, or the session's one (stdio).
   */
  McpCaller caller(McpTransportContext context) {
    Object c = context == null ? null : context.get(McpCaller.CONTEXT_KEY);
    return c instanceof McpCaller caller ? caller : sessionCaller;
  }

  /** Who the memory tools act as during the current call. */
  static MemoryAccessor memoryAs(MemoryAccessor fallback) {
    return CALLER.isBound() ? CALLER.get().memoryAs() : fallback;
  }

  /** One call of {@code name} by the session's caller. */
  McpSchema.CallToolResult call(String name, Map<String, Object> arguments) {
    return call(name, arguments, sessionCaller);
  }

  /** One call of tool {@code name} with {@code arguments} (null for none), through every stage. */
  McpSchema.CallToolResult call(String name, Map<String, Object> arguments, McpCaller caller) {
    McpPrincipal principal = caller.principal();
    Instant at = Instant.now();
    long start = System.nanoTime();
    ToolDef def = tools.get(name);
    McpAudit.Outcome outcome;
    String detail;
    McpSchema.CallToolResult result;
    if (def == null) {
      outcome = McpAudit.Outcome.INVALID;
      detail = "no such tool";
      result =
          error(
              "there is no tool '"
                  + name
                  + "'; the tools are "
                  + String.join(", ", tools.keySet()));
    } else if (def.requires() != null && !caller.allows(def.requires())) {
      outcome = McpAudit.Outcome.DENIED;
      detail = "needs --allow " + def.requires().label();
      result =
          caller != sessionCaller
              ? error(
                  "permission denied: "
                      + name
                      + " needs the '"
                      + def.requires().label()
                      + "' permission, which token "
                      + principal.name()
                      + " does not have (fix: a token with --role "
                      + (def.requires() == McpPermission.RUN ? "operator" : "agent")
                      + " or above)")
              : error(
                  "permission denied: "
                      + name
                      + " needs the '"
                      + def.requires().label()
                      + "' permission, which this server was not given (fix: the user restarts it"
                      + " with cfn mcp serve --allow "
                      + def.requires().label()
                      + ")");
    } else {
      JsonNode args = arguments == null ? JSON.createObjectNode() : JSON.valueToTree(arguments);
      List<String> problems = schemas.get(name).problems(args);
      if (!problems.isEmpty()) {
        outcome = McpAudit.Outcome.INVALID;
        detail = problems.size() + " invalid argument(s)";
        result =
            error(
                "invalid arguments for "
                    + name
                    + ": "
                    + String.join("; ", problems)
                    + " (fix: follow the tool's input schema)");
      } else if (def.scope() != null && !allowed(caller, def.scope().apply(args))) {
        ToolDef.Target target = def.scope().apply(args);
        outcome = McpAudit.Outcome.DENIED;
        detail = "no scope for " + target;
        result =
            error(
                "permission denied: "
                    + name
                    + " acts on "
                    + target
                    + ", and "
                    + principal.name()
                    + " has no scope for it (fix: a token with --scope "
                    + target
                    + (target.name().equals("*") ? "" : " or " + target.kind() + ":*")
                    + (target.kind().equals("memory") && target.name().equals("*")
                        ? ", or give a namespace the token is scoped for"
                        : "")
                    + ")");
      } else {
        Outcome handled = ScopedValue.where(CALLER, caller).call(() -> handle(def, args));
        outcome = handled.outcome;
        detail = handled.detail;
        result = handled.result;
      }
    }
    counts.get(outcome).incrementAndGet();
    McpAudit.Call record =
        new McpAudit.Call(
            at, principal, name, outcome, detail, Duration.ofNanos(System.nanoTime() - start));
    try {
      audit.record(record);
    } catch (RuntimeException e) {
      LOG.error("the MCP audit could not record {}: {}", record, e.toString(), e);
    }
    return result;
  }

  private static boolean allowed(McpCaller caller, ToolDef.Target target) {
    return caller.scopes().allows(target.kind(), target.name());
  }

  private record Outcome(
      McpAudit.Outcome outcome, String detail, McpSchema.CallToolResult result) {}

  /** {@code tool} as a catalog tool: its handler gets the caller of the call being handled. */
  static ToolDef def(NodeTool tool) {
    return new ToolDef(
        tool.name(),
        tool.description(),
        tool.schema(),
        null, // authorized by the handler, as the REST route it mirrors
        tool.readOnly(),
        args -> {
          NodeTool.Answer a = tool.handler().call(CALLER.get(), args);
          return ToolDef.Answer.done(a.json(), a.summary());
        });
  }

  private static Outcome handle(ToolDef def, JsonNode args) {
    try {
      ToolDef.Answer answer = def.handler().handle(args);
      return new Outcome(
          answer.failed() ? McpAudit.Outcome.FAILED : McpAudit.Outcome.DONE,
          answer.summary(),
          McpSchema.CallToolResult.builder()
              .addTextContent(pretty(answer.json()))
              .isError(answer.failed())
              .build());
    } catch (ToolFailure e) {
      return failed(e.getMessage());
    } catch (NodeTool.Refusal e) {
      return new Outcome(
          switch (e.kind()) {
            case DENIED -> McpAudit.Outcome.DENIED;
            case INVALID -> McpAudit.Outcome.INVALID;
            case FAILED -> McpAudit.Outcome.FAILED;
          },
          e.getMessage(),
          error(e.getMessage()));
    } catch (MemoryAccessException e) {
      return failed(
          "denied by the memory entry's access level: "
              + e.getMessage()
              + " (fix: use a key of your own, or ask its owner to share it)");
    } catch (IllegalArgumentException e) {
      return failed(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return failed("interrupted: the server is stopping");
    } catch (Exception | LinkageError e) {
      LOG.warn("MCP tool {} failed", def.name(), e);
      return failed(
          def.name()
              + " failed: "
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + e.getMessage())
              + " (the server's standard error has the details with --debug)");
    }
  }

  private static Outcome failed(String message) {
    return new Outcome(McpAudit.Outcome.FAILED, message, error(message));
  }

  static McpSchema.CallToolResult error(String message) {
    return McpSchema.CallToolResult.builder().addTextContent(message).isError(true).build();
  }

  static ObjectNode object() {
    return JSON.createObjectNode();
  }

  private static String pretty(JsonNode json) {
    try {
      return PRETTY.writeValueAsString(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree did not serialize: " + e.getMessage(), e);
    }
  }
}
