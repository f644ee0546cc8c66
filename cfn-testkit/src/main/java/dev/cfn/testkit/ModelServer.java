package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real HTTP model server on loopback for tests: it speaks OpenAI Chat Completions ({@code POST
 * /v1/chat/completions}) and Anthropic Messages ({@code POST /v1/messages}), streaming or not, so
 * the code under test runs its real HTTP client, its real JSON and SSE parsing, and its real error
 * handling against it.
 *
 * <h2>Three ways to answer</h2>
 *
 * <ul>
 *   <li>{@link #start()}: answers from a {@link Script} of {@link Reply} values, written once and
 *       rendered in the protocol and mode of each request, including faults (errors, rate limits,
 *       overload, slow responses, dropped connections, cut streams).
 *   <li>{@link #start(Cassette)}: replays a recorded {@link Cassette}; a request that matches no
 *       recording gets HTTP 400 saying "no cassette interaction matches".
 *   <li>{@link #recording(URI, Path)}: a proxy to the real provider that records each call into a
 *       cassette file (without credentials) for later replay.
 * </ul>
 *
 * <p>In every mode the script is consulted first, so faults can be injected on top of a cassette or
 * a recording. Requests are validated like the real APIs (Anthropic without {@code
 * anthropic-version} or {@code max_tokens} gets 400; unanswered tool calls get 400), and with
 * {@link #requireApiKey(String)} a request without the key gets 401, all in the protocol's error
 * format. A request nothing answers gets HTTP 400 (not a 5xx, which clients would retry) saying "no
 * script rule matched" and what the request was, so a test fails loudly and at once.
 *
 * <h2>Example</h2>
 *
 * <pre>{@code
 * try (ModelServer server = ModelServer.start()) {
 *   server.script()
 *       .on(Match.toolResultPresent()).reply(Reply.text("It is 21°C in Paris."))
 *       .on(Match.lastUserMessageContains("weather"))
 *       .reply(Reply.toolCall("get_weather", "{\"city\":\"Paris\"}"));
 *   server.requireApiKey("test-key");
 *
 *   // point the client under test at the server:
 *   //   OpenAI clients:    base URL server.openAiBaseUrl()    (http://127.0.0.1:PORT/v1)
 *   //   Anthropic clients: base URL server.anthropicBaseUrl() (http://127.0.0.1:PORT)
 *   String answer = myAgent.ask("What's the weather in Paris?");
 *
 *   assertThat(answer).contains("21°C");
 *   assertThat(server.requests()).hasSize(2);
 *   assertThat(server.requests().get(0).toolNames()).contains("get_weather");
 *   assertThat(server.requests().get(1).hasToolResult()).isTrue();
 * }
 * }</pre>
 *
 * <p>Fault injection, one request at a time:
 *
 * <pre>{@code
 * server.script().enqueue(Reply.rateLimited(Duration.ofSeconds(1)));   // 429 + Retry-After: 1
 * server.script().enqueue(Reply.overloaded());                         // 529 / 503
 * server.script().enqueue(Reply.text("partial answer").cutStreamAfter(3));
 * }</pre>
 *
 * <p>Recording, then replaying:
 *
 * <pre>{@code
 * try (ModelServer proxy = ModelServer.recording(URI.create("https://api.anthropic.com"), file)) {
 *   runScenario(proxy.anthropicBaseUrl(), System.getenv("ANTHROPIC_API_KEY"));
 * }
 * try (ModelServer replay = ModelServer.start(Cassette.load(file))) {
 *   runScenario(replay.anthropicBaseUrl(), "any-key");
 * }
 * }</pre>
 *
 * <p>The server listens on 127.0.0.1 on an ephemeral port and handles each request on its own
 * virtual thread; it is safe to use from concurrent clients. Close it to free the port.
 *
 * <h2>As a load target</h2>
 *
 * <p>{@link #builder()} sizes a server for load: {@link Builder#requestHistory(int)} bounds the
 * requests kept for {@link #requests()} (the most recent {@value #DEFAULT_REQUEST_HISTORY} by
 * default, 0 for none; {@link #received()} counts them all either way), and {@link
 * Builder#backlog(int)} the connections waiting to be accepted. Keep-alive connections: the JDK
 * HTTP server closes a connection after its exchange when {@code sun.net.httpserver.
 * maxIdleConnections} (JDK default 200) connections are idle already, and a client that pooled it
 * then fails its next request on it ("header parser received no bytes"). The JDK reads that
 * property once, when its first HTTP server class loads; this class sets it to {@value
 * #KEEP_ALIVE_CONNECTIONS} when it loads, unless it is set already (on the command line, say). In a
 * JVM that started a JDK HTTP server before this class loaded, pass {@code
 * -Dsun.net.httpserver.maxIdleConnections=N} instead. In the same way it sets {@code
 * sun.net.httpserver.nodelay=true} (TCP_NODELAY on accepted connections), so that an answer's body
 * does not wait on the client's delayed ACK of its headers (about 40 ms per exchange).
 *
 * <pre>{@code
 * try (ModelServer server = ModelServer.builder().requestHistory(0).start()) {
 *   server.script().on(Match.any()).reply(Reply.text("ok"));
 *   // drive thousands of keep-alive connections at server.openAiBaseUrl() ...
 *   long served = server.received();
 * }
 * }</pre>
 */
public final class ModelServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelServer.class);
  private static final String OPENAI_PATH = "/v1/chat/completions";
  private static final String ANTHROPIC_PATH = "/v1/messages";
  private static final String MAX_IDLE_PROPERTY = "sun.net.httpserver.maxIdleConnections";
  private static final String NO_DELAY_PROPERTY = "sun.net.httpserver.nodelay";

  /** How many requests {@link #requests()} keeps unless the builder says otherwise. */
  public static final int DEFAULT_REQUEST_HISTORY = 1_000;

  /**
   * The keep-alive connections the JDK HTTP server keeps idle, set as {@code
   * sun.net.httpserver.maxIdleConnections} when this class loads unless already set.
   */
  public static final int KEEP_ALIVE_CONNECTIONS = 20_000;

  /** The connections waiting to be accepted, unless the builder says otherwise. */
  public static final int DEFAULT_BACKLOG = 4_096;

  static {
    // Read by the JDK once, when sun.net.httpserver.ServerImpl initialises: set it before the
    // first server of this class is created, and leave a value given on the command line alone.
    if (System.getProperty(MAX_IDLE_PROPERTY) == null) {
      System.setProperty(MAX_IDLE_PROPERTY, Integer.toString(KEEP_ALIVE_CONNECTIONS));
    }
    // Answers go out as headers, then body: without TCP_NODELAY, Nagle holds the body until the
    // client acknowledges the headers, which a client's delayed ACK makes ~40 ms per exchange.
    if (System.getProperty(NO_DELAY_PROPERTY) == null) {
      System.setProperty(NO_DELAY_PROPERTY, "true");
    }
  }

  private final HttpServer http;
  private final ExecutorService executor;
  private final URI baseUrl;
  private final Script script = new Script();
  private final RequestHistory requests;
  private final IdSequence ids = new IdSequence();
  private final CassettePlayer player;
  private final UpstreamProxy proxy;
  private volatile String requiredKey;
  private final java.util.concurrent.atomic.AtomicInteger finished =
      new java.util.concurrent.atomic.AtomicInteger();

  private ModelServer(CassettePlayer player, UpstreamProxy proxy, int port) {
    this(player, proxy, port, DEFAULT_REQUEST_HISTORY, DEFAULT_BACKLOG);
  }

  private ModelServer(
      CassettePlayer player, UpstreamProxy proxy, int port, int history, int backlog) {
    this.player = player;
    this.proxy = proxy;
    this.requests = new RequestHistory(history);
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0 (any free port) to 65535, was " + port);
    }
    try {
      this.http =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot open loopback port "
              + (port == 0 ? "(any)" : port)
              + " for the model server: "
              + e.getMessage()
              + (port == 0 ? "" : "; choose another port, or 0 for any free one"),
          e);
    }
    this.executor = Executors.newVirtualThreadPerTaskExecutor();
    http.setExecutor(executor);
    http.createContext("/", this::handle);
    http.start();
    this.baseUrl = URI.create("http://127.0.0.1:" + http.getAddress().getPort());
    log.debug("model server listening on {}", baseUrl);
  }

  /**
   * Starts a scripted server on 127.0.0.1 and an ephemeral port; script it with {@link #script()}.
   */
  public static ModelServer start() {
    return new ModelServer(null, null, 0);
  }

  /**
   * Starts a server that replays {@code cassette}: each request gets the recorded response of the
   * interaction it matches (see {@link Cassette}). A streamed recording is re-emitted event by
   * event to a streaming request; when the modes differ (a streamed recording, a non-streaming
   * request, or the reverse) the recorded answer is rendered in the request's mode.
   */
  public static ModelServer start(Cassette cassette) {
    return start(cassette, 0);
  }

  /**
   * Like {@link #start(Cassette)}, on 127.0.0.1 and {@code port} (0 for any free port): for a
   * server other processes reach at a known address, such as {@code cfn testkit serve}.
   */
  public static ModelServer start(Cassette cassette, int port) {
    return new ModelServer(
        new CassettePlayer(Objects.requireNonNull(cassette, "cassette")), null, port);
  }

  /**
   * Starts a recording proxy: each model request is forwarded to {@code upstream} with the client's
   * headers (so the real API key passes through), the answer is streamed back as it arrives, and
   * request and response are appended to a new cassette at {@code cassetteFile} (replacing any file
   * there), saved after every interaction and on close. Credentials are never written to the file.
   *
   * @param upstream the provider's origin, e.g. {@code https://api.openai.com} or {@code
   *     https://api.anthropic.com} (a trailing {@code /v1} is tolerated)
   */
  public static ModelServer recording(URI upstream, Path cassetteFile) {
    return recording(upstream, cassetteFile, 0);
  }

  /**
   * Like {@link #recording(URI, Path)}, on 127.0.0.1 and {@code port} (0 for any free port), as
   * {@code cfn testkit record} runs it.
   */
  public static ModelServer recording(URI upstream, Path cassetteFile, int port) {
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(cassetteFile, "cassetteFile");
    UpstreamProxy proxy = new UpstreamProxy(upstream, cassetteFile);
    proxy.save();
    return new ModelServer(null, proxy, port);
  }

  /** The server's root, {@code http://127.0.0.1:PORT}. */
  public URI baseUrl() {
    return baseUrl;
  }

  /**
   * The base URL OpenAI clients take ({@code http://127.0.0.1:PORT/v1}); they append {@code
   * /chat/completions}.
   */
  public String openAiBaseUrl() {
    return baseUrl + "/v1";
  }

  /**
   * The base URL Anthropic clients take ({@code http://127.0.0.1:PORT}); they append {@code
   * /v1/messages}.
   */
  public String anthropicBaseUrl() {
    return baseUrl.toString();
  }

  /** The script that answers requests; change it at any time. */
  public Script script() {
    return script;
  }

  /**
   * Starts building a server with non-default settings: a request history sized for load, a
   * backlog, a cassette, a port.
   *
   * @return a builder; {@link Builder#start()} starts the server
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The requests received so far, in arrival order (a snapshot): every one of them, or the most
   * recent ones when more arrived than the request history holds ({@value #DEFAULT_REQUEST_HISTORY}
   * by default, see {@link Builder#requestHistory(int)}).
   */
  public List<RecordedRequest> requests() {
    return requests.snapshot();
  }

  /**
   * How many requests have arrived, counted whether or not the request history kept them.
   *
   * @return the count since the server started
   */
  public long received() {
    return requests.received();
  }

  /**
   * Requires {@code key} on every request from now on: {@code Authorization: Bearer KEY} for
   * OpenAI, {@code x-api-key: KEY} for Anthropic. A request without it gets 401 in the protocol's
   * error format. {@code null} turns the check off (the default).
   */
  public void requireApiKey(String key) {
    this.requiredKey = key;
  }

  /**
   * Stops the server at once, dropping open connections; a recording server then saves its cassette
   * (every completed interaction is already in the file).
   */
  @Override
  public void close() {
    try {
      http.stop(0);
      executor.shutdownNow();
    } finally {
      if (proxy != null) {
        proxy.close();
      }
    }
  }

  /**
   * How many exchanges have been answered to the end, faults included; {@link #requests()} counts a
   * request as soon as it arrives, before its answer (or a recording's upstream call) is done.
   */
  public int answered() {
    return finished.get();
  }

  /** {@code ModelServer[http://127.0.0.1:PORT, scripted]}. */
  @Override
  public String toString() {
    String mode =
        proxy != null ? "recording " + proxy.upstream() : player != null ? "replay" : "scripted";
    return "ModelServer[" + baseUrl + ", " + mode + "]";
  }

  // ---- request handling

  private void handle(HttpExchange exchange) throws IOException {
    // Not try-with-resources: closing the exchange would end a chunked body cleanly, and a
    // dropped connection must not be ended cleanly.
    try {
      dispatch(exchange);
      exchange.close();
      finished.incrementAndGet();
    } catch (ExchangeWriter.ConnectionDrop drop) {
      log.debug("dropping connection: {}", drop.getMessage());
      throw drop;
    } catch (IOException e) {
      // usually the client hung up (a client timeout during a scripted delay, a cancelled stream)
      log.debug(
          "connection to the client failed while answering {}: {}",
          exchange.getRequestURI(),
          e.toString());
      throw e;
    } catch (RuntimeException e) {
      log.warn(
          "cfn-testkit failed to answer {}; dropping the connection", exchange.getRequestURI(), e);
      throw new ExchangeWriter.ConnectionDrop("internal failure: " + e);
    }
  }

  private void dispatch(HttpExchange exchange) throws IOException {
    byte[] raw = exchange.getRequestBody().readAllBytes();
    String path = exchange.getRequestURI().getPath();
    Map<String, String> headers = new LinkedHashMap<>();
    exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, values.get(0)));
    Protocol protocol = protocolOf(path, headers);
    JsonNode body = Json.parseLenient(raw);
    RecordedRequest request =
        new RecordedRequest(protocol, exchange.getRequestMethod(), path, headers, body);
    requests.add(request);
    log.debug("received {}", request);
    Dialect dialect = Dialect.of(protocol);

    if (!path.endsWith(OPENAI_PATH) && !path.endsWith(ANTHROPIC_PATH)) {
      send(
          exchange,
          dialect.error(
              404,
              "Unknown request URL: "
                  + exchange.getRequestMethod()
                  + " "
                  + path
                  + ". cfn-testkit serves POST /v1/chat/completions (OpenAI) and POST /v1/messages"
                  + " (Anthropic): give OpenAI clients openAiBaseUrl() and Anthropic clients"
                  + " anthropicBaseUrl().",
              ids),
          -1);
      return;
    }
    if (!exchange.getRequestMethod().equals("POST")) {
      send(exchange, dialect.error(405, "Method not allowed: use POST on " + path, ids), -1);
      return;
    }
    String key = requiredKey;
    if (key != null) {
      Rendition denied = dialect.authFailure(request, key, ids);
      if (denied != null) {
        send(exchange, denied, -1);
        return;
      }
    }
    if (proxy == null) {
      Rendition invalid = dialect.validate(request, ids);
      if (invalid != null) {
        send(exchange, invalid, -1);
        return;
      }
    }
    Optional<Reply> scripted = script.answer(request);
    if (scripted.isPresent()) {
      answer(exchange, request, dialect, scripted.get());
      return;
    }
    if (player != null) {
      Optional<Cassette.Interaction> recorded = player.next(request);
      if (recorded.isPresent()) {
        replay(exchange, request, dialect, recorded.get());
        return;
      }
      String message =
          "cfn-testkit: no cassette interaction matches this request (and no script rule"
              + " matched): "
              + request.summary()
              + ". "
              + player.describeNear(request)
              + ". Record the cassette again or add a script rule.";
      log.warn(message);
      send(exchange, dialect.testkitError(message, ids), -1);
      return;
    }
    if (proxy != null) {
      proxy.forward(exchange, request, raw, ids);
      return;
    }
    String message =
        "cfn-testkit: no script rule matched this request: "
            + request.summary()
            + ". Rules: "
            + script.describeRules()
            + ". Add one with server.script().on(Match...).reply(Reply...) or enqueue a reply.";
    log.warn(message);
    send(exchange, dialect.testkitError(message, ids), -1);
  }

  private static Protocol protocolOf(String path, Map<String, String> headers) {
    if (path.endsWith(ANTHROPIC_PATH)) {
      return Protocol.ANTHROPIC;
    }
    if (path.endsWith(OPENAI_PATH)) {
      return Protocol.OPENAI;
    }
    boolean anthropicHeaders =
        headers.keySet().stream()
            .anyMatch(
                h -> h.equalsIgnoreCase("anthropic-version") || h.equalsIgnoreCase("x-api-key"));
    return anthropicHeaders ? Protocol.ANTHROPIC : Protocol.OPENAI;
  }

  private void answer(HttpExchange exchange, RecordedRequest request, Dialect dialect, Reply reply)
      throws IOException {
    pause(reply);
    Rendition rendition =
        switch (reply.kind()) {
          case RESET -> throw new ExchangeWriter.ConnectionDrop("connection reset, as scripted");
          case OVERLOADED -> dialect.overloaded(ids);
          case ERROR -> dialect.error(reply.status(), reply.errorMessage(), ids);
          case MESSAGE -> {
            if (reply.truncatedRecording() && !request.stream()) {
              throw new ExchangeWriter.ConnectionDrop("the recorded stream was cut upstream");
            }
            try {
              yield dialect.render(reply, request, ids);
            } catch (IllegalStateException e) {
              yield dialect.testkitError(
                  "cfn-testkit cannot render the reply: " + e.getMessage(), ids);
            }
          }
        };
    send(exchange, rendition.withHeaders(reply.headers()), reply.cutAfterEvents());
  }

  private void replay(
      HttpExchange exchange,
      RecordedRequest request,
      Dialect dialect,
      Cassette.Interaction recorded)
      throws IOException {
    if (recorded.status() != 200 || recorded.streamed() == request.stream()) {
      Map<String, String> headers = new LinkedHashMap<>(recorded.headers());
      Rendition rendition;
      if (recorded.streamed()) {
        headers.putIfAbsent("content-type", Rendition.EVENT_STREAM);
        rendition =
            new Rendition(
                recorded.status(), headers, null, recorded.events(), recorded.truncated());
      } else {
        String contentType = headers.getOrDefault("content-type", Rendition.JSON);
        byte[] bytes =
            contentType.contains("json")
                ? Json.bytes(recorded.body())
                : recorded.body().asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        rendition = new Rendition(recorded.status(), headers, bytes, null, false);
      }
      send(exchange, rendition, -1);
      return;
    }
    Reply reply =
        recorded.streamed()
            ? dialect.replyFromEvents(recorded.events(), recorded.truncated())
            : dialect.replyFromBody(recorded.body());
    answer(exchange, request, dialect, reply);
  }

  private static void pause(Reply reply) throws IOException {
    if (reply.delay().isZero()) {
      return;
    }
    try {
      Thread.sleep(reply.delay());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ExchangeWriter.ConnectionDrop("server closed during a scripted delay");
    }
  }

  private static void send(HttpExchange exchange, Rendition rendition, int cutAfterEvents)
      throws IOException {
    ExchangeWriter.write(exchange, rendition, cutAfterEvents);
  }

  /**
   * Settings for a {@link ModelServer}: obtained from {@link ModelServer#builder()}, started with
   * {@link #start()}. Not thread-safe; a builder can start several servers.
   */
  public static final class Builder {
    private int port;
    private int history = DEFAULT_REQUEST_HISTORY;
    private int backlog = DEFAULT_BACKLOG;
    private Cassette cassette;

    private Builder() {}

    /**
     * Listens on 127.0.0.1 and {@code port} (0, the default, for any free port).
     *
     * @return this builder
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0 (any free port) to 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Keeps the last {@code requests} requests for {@link ModelServer#requests()}; 0 keeps none
     * (for load, where recording costs memory and a lock per request). Default {@value
     * ModelServer#DEFAULT_REQUEST_HISTORY}.
     *
     * @return this builder
     */
    public Builder requestHistory(int requests) {
      if (requests < 0) {
        throw new IllegalArgumentException(
            "requestHistory must be >= 0 (0 keeps none), was " + requests);
      }
      this.history = requests;
      return this;
    }

    /**
     * Lets {@code connections} connections wait to be accepted (the listen backlog; the kernel caps
     * it at {@code net.core.somaxconn}). Default {@value ModelServer#DEFAULT_BACKLOG}.
     *
     * @return this builder
     */
    public Builder backlog(int connections) {
      if (connections < 1) {
        throw new IllegalArgumentException("backlog must be >= 1, was " + connections);
      }
      this.backlog = connections;
      return this;
    }

    /**
     * Replays {@code cassette}, as {@link ModelServer#start(Cassette)} does; null for a scripted
     * server (the default).
     *
     * @return this builder
     */
    public Builder cassette(Cassette cassette) {
      this.cassette = cassette;
      return this;
    }

    /**
     * Starts the server.
     *
     * @return the running server; close it to free the port
     */
    public ModelServer start() {
      return new ModelServer(
          cassette == null ? null : new CassettePlayer(cassette), null, port, history, backlog);
    }
  }
}
