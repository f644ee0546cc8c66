package dev.cfn.ai.model;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.model.ProviderConfig.Kind;
import dev.cfn.testkit.Cassette;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes testkit cassettes by hand, for answers that {@code Reply} will not script (malformed tool
 * arguments, error events in the middle of a stream). Every interaction answers the request a
 * client sends for {@link #PROMPT} to {@link Servers#MODEL} without system prompt or tools.
 */
final class Cassettes {
  static final String PROMPT = "find cats";

  private Cassettes() {}

  static Cassette write(Path dir, ObjectNode... interactions) {
    ObjectNode root = HttpTransport.JSON.createObjectNode();
    root.put("format", "cfn-testkit-cassette").put("version", 1);
    ArrayNode list = root.putArray("interactions");
    for (ObjectNode i : interactions) {
      list.add(i);
    }
    Path file = dir.resolve("cassette-" + System.nanoTime() + ".json");
    try {
      Files.writeString(file, root.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Cassette.load(file);
  }

  /** A non-streamed answer with this JSON body. */
  static ObjectNode plain(Kind kind, String body) {
    ObjectNode i = interaction(kind);
    i.putObject("response").put("status", 200).set("body", Servers.json(body));
    return i;
  }

  /** A streamed answer. Each event is {@code "data"} or, for named events, {@code "name|data"}. */
  static ObjectNode streamed(Kind kind, String... events) {
    ObjectNode i = interaction(kind);
    ObjectNode response = i.putObject("response").put("status", 200);
    response.putObject("headers").put("content-type", "text/event-stream");
    ArrayNode list = response.putArray("events");
    for (String e : events) {
      int bar = e.indexOf('|');
      ObjectNode event = list.addObject();
      if (bar > 0 && !e.startsWith("{")) {
        event.put("event", e.substring(0, bar)).put("data", e.substring(bar + 1));
      } else {
        event.put("data", e);
      }
    }
    return i;
  }

  private static ObjectNode interaction(Kind kind) {
    ObjectNode i = HttpTransport.JSON.createObjectNode();
    ObjectNode request = i.put("protocol", kind.name()).putObject("request");
    if (kind == Kind.OPENAI) {
      request.put("path", "/v1/chat/completions");
      request.set(
          "body",
          Servers.json(
              "{\"model\":\""
                  + Servers.MODEL
                  + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
                  + PROMPT
                  + "\"}]}"));
    } else {
      request.put("path", "/v1/messages");
      request.set(
          "body",
          Servers.json(
              "{\"model\":\""
                  + Servers.MODEL
                  + "\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":"
                  + "[{\"type\":\"text\",\"text\":\""
                  + PROMPT
                  + "\"}]}]}"));
    }
    return i;
  }
}
