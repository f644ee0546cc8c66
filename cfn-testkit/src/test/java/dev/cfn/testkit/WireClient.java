package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A minimal provider client for the tests, written independently of the server code: posts JSON
 * with java.net.http and parses server-sent events.
 */
final class WireClient {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  /** One server-sent event: the event name (or null) and the data. */
  record Sse(String event, String data) {
    JsonNode json() {
      return WireClient.parse(data);
    }
  }

  /** A response: status, headers, and the body or the events read before the stream ended. */
  record Result(
      int status, Map<String, String> headers, String body, List<Sse> events, IOException failure) {
    JsonNode json() {
      return parse(body);
    }

    String header(String name) {
      return headers.get(name.toLowerCase());
    }
  }

  private WireClient() {}

  static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + text, e);
    }
  }

  static HttpRequest.Builder openAiRequest(String baseUrl, String key, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl + "/chat/completions"))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return b;
  }

  static HttpRequest.Builder anthropicRequest(String baseUrl, String key, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl + "/v1/messages"))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .header("anthropic-version", "2023-06-01")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("x-api-key", key);
    }
    return b;
  }

  static Result openAi(ModelServer server, String body) throws IOException {
    return send(openAiRequest(server.openAiBaseUrl(), "sk-test", body).build());
  }

  static Result anthropic(ModelServer server, String body) throws IOException {
    return send(anthropicRequest(server.anthropicBaseUrl(), "sk-ant-test", body).build());
  }

  /**
   * Sends the request and reads the whole body. A body that breaks off (a dropped connection) is
   * returned with the bytes received so far and the failure; a failure before any response is
   * thrown. Bytes are collected as the HTTP client delivers them, so none received before the
   * failure are lost.
   */
  static Result send(HttpRequest request) throws IOException {
    Collecting collecting = new Collecting();
    HttpResponse.ResponseInfo info;
    IOException failure;
    try {
      HttpResponse<Collected> response =
          HTTP.send(
              request,
              responseInfo -> {
                collecting.info = responseInfo;
                return collecting;
              });
      info = collecting.info;
      failure = response.body().failure();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (IOException e) {
      if (collecting.info == null) {
        throw e; // no response at all
      }
      info = collecting.info; // the body broke off; keep what arrived
      failure = e;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    info.headers().map().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
    String text = new String(collecting.bytes.toByteArray(), StandardCharsets.UTF_8);
    if (!headers.getOrDefault("content-type", "").startsWith("text/event-stream")) {
      return new Result(info.statusCode(), headers, text, null, failure);
    }
    return new Result(info.statusCode(), headers, null, parseEvents(text), failure);
  }

  /** Complete events only: a trailing event without its blank line was cut and is dropped. */
  static List<Sse> parseEvents(String text) {
    List<Sse> events = new ArrayList<>();
    String event = null;
    StringBuilder data = null;
    int from = 0;
    int newline;
    while ((newline = text.indexOf('\n', from)) >= 0) {
      String line = text.substring(from, newline);
      from = newline + 1;
      if (line.isEmpty()) {
        if (data != null) {
          events.add(new Sse(event, data.toString()));
        }
        event = null;
        data = null;
      } else if (line.startsWith("event: ")) {
        event = line.substring(7);
      } else if (line.startsWith("data: ")) {
        data =
            data == null
                ? new StringBuilder(line.substring(6))
                : data.append('\n').append(line.substring(6));
      }
    }
    return events;
  }

  record Collected(byte[] bytes, IOException failure) {}

  /** Collects every delivered byte; completes normally with the failure, if any. */
  private static final class Collecting implements HttpResponse.BodySubscriber<Collected> {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<Collected> result = new CompletableFuture<>();
    private volatile HttpResponse.ResponseInfo info;

    @Override
    public CompletionStage<Collected> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
      for (ByteBuffer buffer : item) {
        byte[] chunk = new byte[buffer.remaining()];
        buffer.get(chunk);
        bytes.writeBytes(chunk);
      }
    }

    @Override
    public void onError(Throwable throwable) {
      IOException failure = throwable instanceof IOException io ? io : new IOException(throwable);
      result.complete(new Collected(bytes.toByteArray(), failure));
    }

    @Override
    public void onComplete() {
      result.complete(new Collected(bytes.toByteArray(), null));
    }
  }

  // ---- reassembly of streams, as a client would do it

  /** OpenAI: the concatenated delta.content. */
  static String openAiText(List<Sse> events) {
    StringBuilder sb = new StringBuilder();
    for (Sse e : events) {
      if (e.data().equals("[DONE]")) {
        continue;
      }
      JsonNode delta = e.json().path("choices").path(0).path("delta");
      if (delta.path("content").isTextual()) {
        sb.append(delta.path("content").asText());
      }
    }
    return sb.toString();
  }

  /** OpenAI: tool calls by index, as {id, name, arguments}. */
  static List<String[]> openAiToolCalls(List<Sse> events) {
    List<String[]> calls = new ArrayList<>();
    for (Sse e : events) {
      if (e.data().equals("[DONE]")) {
        continue;
      }
      for (JsonNode call : e.json().path("choices").path(0).path("delta").path("tool_calls")) {
        int index = call.path("index").asInt();
        while (calls.size() <= index) {
          calls.add(new String[] {null, null, ""});
        }
        String[] c = calls.get(index);
        if (call.has("id")) {
          c[0] = call.path("id").asText();
        }
        if (call.path("function").has("name")) {
          c[1] = call.path("function").path("name").asText();
        }
        c[2] += call.path("function").path("arguments").asText("");
      }
    }
    return calls;
  }

  /** Anthropic: the text of all text_delta events. */
  static String anthropicText(List<Sse> events) {
    StringBuilder sb = new StringBuilder();
    for (Sse e : events) {
      JsonNode delta = e.json().path("delta");
      if ("text_delta".equals(delta.path("type").asText())) {
        sb.append(delta.path("text").asText());
      }
    }
    return sb.toString();
  }

  /** Anthropic: the partial_json of one content block, concatenated. */
  static String anthropicToolInput(List<Sse> events, int index) {
    StringBuilder sb = new StringBuilder();
    for (Sse e : events) {
      JsonNode node = e.json();
      if (node.path("index").asInt(-1) == index
          && "input_json_delta".equals(node.path("delta").path("type").asText())) {
        sb.append(node.path("delta").path("partial_json").asText());
      }
    }
    return sb.toString();
  }

  static List<String> names(List<Sse> events) {
    return events.stream().map(Sse::event).toList();
  }
}
