package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Recorded model calls, replayed by {@link ModelServer#start(Cassette)} and written by {@link
 * ModelServer#recording(java.net.URI, Path)}.
 *
 * <p>A cassette is a JSON file of interactions, each a request (protocol, path, JSON body) and the
 * provider's response (status, a few non-secret headers, and either the JSON body or the
 * server-sent events of a stream). Credentials are never written: request headers are not stored at
 * all, response headers are limited to content type, request ids, rate-limit and retry headers, and
 * any credential value the recorder saw is scrubbed from the bodies before saving.
 *
 * <p>On replay a request matches an interaction when protocol, model, system prompt, messages and
 * tools are the same after normalization (volatile fields such as {@code stream}, {@code
 * max_tokens}, {@code temperature}, tool-call ids and {@code cache_control} are ignored). Repeated
 * identical requests replay their interactions in recorded order; once they are used up the last
 * one repeats. The file is plain, pretty-printed JSON, meant to be committed next to the test.
 */
public final class Cassette {
  static final String FORMAT = "cfn-testkit-cassette";
  static final int VERSION = 1;

  /**
   * One server-sent event as it went over the wire: {@code name} is the {@code event:} field
   * ({@code null} when there was none, as in OpenAI streams), {@code data} the {@code data:} text.
   */
  public record Event(String name, String data) {
    /** Checks that {@code data} is present. */
    public Event {
      Objects.requireNonNull(data, "data");
    }
  }

  /**
   * One recorded call.
   *
   * @param protocol the protocol of the request
   * @param path the request path, e.g. {@code /v1/messages}
   * @param request the JSON request body
   * @param status the response status
   * @param headers the recorded (non-secret) response headers, lower-case names
   * @param body the response body when it was not streamed (JSON, or a text node for a non-JSON
   *     body); {@code null} for a stream
   * @param events the server-sent events of a streamed response; {@code null} otherwise
   * @param truncated whether the upstream stream ended abruptly, so the replay also drops the
   *     connection after the recorded events
   */
  public record Interaction(
      Protocol protocol,
      String path,
      JsonNode request,
      int status,
      Map<String, String> headers,
      JsonNode body,
      List<Event> events,
      boolean truncated) {
    /** Checks the required parts and copies the collections. */
    public Interaction {
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(request, "request");
      headers = Map.copyOf(headers);
      events = events == null ? null : List.copyOf(events);
      if ((body == null) == (events == null)) {
        throw new IllegalArgumentException(
            "an interaction has either a response body or stream events, not both or neither");
      }
    }

    /** Whether the response was a stream of server-sent events. */
    public boolean streamed() {
      return events != null;
    }
  }

  private final List<Interaction> interactions = new ArrayList<>();

  Cassette() {}

  /**
   * Reads a cassette file written by {@link #save(Path)} or by a recording server.
   *
   * @throws UncheckedIOException if the file cannot be read
   * @throws IllegalArgumentException if the file is not a cassette
   */
  public static Cassette load(Path file) {
    JsonNode root;
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
      root = Json.MAPPER.readTree(in); // through NIO: a missing file is NoSuchFileException
    } catch (java.nio.file.NoSuchFileException e) {
      throw new UncheckedIOException(
          "cassette "
              + file
              + " does not exist (record one first: cfn testkit record --cassette "
              + file
              + " --upstream URL)",
          e);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          file
              + " is not a cfn-testkit cassette: it is not JSON ("
              + e.getOriginalMessage()
              + " at line "
              + e.getLocation().getLineNr()
              + ")",
          e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read cassette " + file + ": " + e.getMessage(), e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new IllegalArgumentException(
          file + " is not a cfn-testkit cassette (its \"format\" field is not \"" + FORMAT + "\")");
    }
    if (root.path("version").asInt() != VERSION) {
      throw new IllegalArgumentException(
          file
              + " is cassette version "
              + root.path("version").asText()
              + "; this cfn-testkit reads version "
              + VERSION
              + ": record it again");
    }
    Cassette cassette = new Cassette();
    int index = 0;
    for (JsonNode node : root.path("interactions")) {
      try {
        cassette.add(fromJson(node));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            file + ": interaction " + index + " is malformed: " + e.getMessage(), e);
      }
      index++;
    }
    return cassette;
  }

  /**
   * Writes the cassette as pretty-printed JSON, atomically (a reader never sees half a file),
   * creating parent directories.
   *
   * @throws UncheckedIOException if the file cannot be written
   */
  public void save(Path file) {
    save(file, Set.of());
  }

  /** The recorded interactions, in order (a snapshot). */
  public List<Interaction> interactions() {
    synchronized (interactions) {
      return List.copyOf(interactions);
    }
  }

  /** The number of recorded interactions. */
  public int size() {
    synchronized (interactions) {
      return interactions.size();
    }
  }

  void add(Interaction interaction) {
    synchronized (interactions) {
      interactions.add(interaction);
    }
  }

  /** Saves with every occurrence of each secret in a string value replaced by a placeholder. */
  void save(Path file, Set<String> secrets) {
    // The snapshot is taken under the same lock as the write: a snapshot taken before it could be
    // older than one another thread has already written, and would overwrite the newer file.
    synchronized (this) {
      ObjectNode root = Json.object();
      root.put("format", FORMAT);
      root.put("version", VERSION);
      ArrayNode list = root.putArray("interactions");
      for (Interaction interaction : interactions()) {
        list.add(scrub(toJson(interaction), secrets));
      }
      try {
        Path absolute = file.toAbsolutePath();
        Path dir = absolute.getParent();
        Path name = absolute.getFileName();
        if (dir == null || name == null) {
          throw new IOException(
              file + " is not a file path (fix: name a file such as cassette.json)");
        }
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, name.toString(), ".tmp");
        try {
          Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(temp.toFile(), root);
          Files.move(
              temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
          Files.deleteIfExists(temp);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write cassette " + file + ": " + e.getMessage(), e);
      }
    }
  }

  private static ObjectNode toJson(Interaction interaction) {
    ObjectNode node = Json.object();
    node.put("protocol", interaction.protocol().name());
    ObjectNode request = node.putObject("request");
    request.put("path", interaction.path());
    request.set("body", interaction.request().deepCopy());
    ObjectNode response = node.putObject("response");
    response.put("status", interaction.status());
    ObjectNode headers = response.putObject("headers");
    interaction.headers().forEach(headers::put);
    if (interaction.streamed()) {
      ArrayNode events = response.putArray("events");
      for (Event event : interaction.events()) {
        ObjectNode e = events.addObject();
        if (event.name() != null) {
          e.put("event", event.name());
        }
        JsonNode parsed = Json.parseOrNull(event.data());
        if (parsed != null && parsed.isContainerNode()) {
          e.set("data", parsed);
        } else {
          e.put("data", event.data());
        }
      }
      if (interaction.truncated()) {
        response.put("truncated", true);
      }
    } else {
      response.set("body", interaction.body().deepCopy());
    }
    return node;
  }

  private static Interaction fromJson(JsonNode node) {
    Protocol protocol = Protocol.valueOf(node.path("protocol").asText());
    JsonNode request = node.path("request");
    JsonNode response = node.path("response");
    Map<String, String> headers = new LinkedHashMap<>();
    response
        .path("headers")
        .properties()
        .forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
    List<Event> events = null;
    if (response.has("events")) {
      events = new ArrayList<>();
      for (JsonNode e : response.path("events")) {
        JsonNode data = e.path("data");
        String name = e.path("event").isTextual() ? e.path("event").asText() : null;
        events.add(new Event(name, data.isTextual() ? data.asText() : Json.write(data)));
      }
    }
    return new Interaction(
        protocol,
        request.path("path").asText(),
        request.path("body"),
        response.path("status").asInt(),
        headers,
        events == null ? response.path("body") : null,
        events,
        response.path("truncated").asBoolean(false));
  }

  private static JsonNode scrub(JsonNode node, Set<String> secrets) {
    if (secrets.isEmpty()) {
      return node;
    }
    if (node.isTextual()) {
      String text = node.asText();
      String clean = text;
      for (String secret : secrets) {
        clean = clean.replace(secret, "[REDACTED]");
      }
      return clean.equals(text) ? node : TextNode.valueOf(clean);
    }
    if (node.isObject()) {
      ObjectNode object = (ObjectNode) node;
      for (String name : object.properties().stream().map(Map.Entry::getKey).toList()) {
        object.set(name, scrub(object.get(name), secrets));
      }
    } else if (node.isArray()) {
      ArrayNode array = (ArrayNode) node;
      for (int i = 0; i < array.size(); i++) {
        array.set(i, scrub(array.get(i), secrets));
      }
    }
    return node;
  }

  /** How many interactions, e.g. {@code Cassette[3 interactions]}. */
  @Override
  public String toString() {
    return "Cassette[" + size() + " interactions]";
  }
}
