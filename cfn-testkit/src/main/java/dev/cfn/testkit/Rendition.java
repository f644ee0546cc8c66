package dev.cfn.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A response ready for the wire: status, headers and either a whole body or a list of server-sent
 * events. {@code truncated} means the events are a stream that must end with a dropped connection
 * (a recorded stream that was cut upstream).
 */
record Rendition(
    int status,
    Map<String, String> headers,
    byte[] body,
    List<Cassette.Event> events,
    boolean truncated) {

  static final String JSON = "application/json";
  static final String EVENT_STREAM = "text/event-stream; charset=utf-8";

  static Rendition json(int status, JsonNode body, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("content-type", JSON);
    all.putAll(headers);
    return new Rendition(status, all, Json.bytes(body), null, false);
  }

  static Rendition stream(List<Cassette.Event> events, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("content-type", EVENT_STREAM);
    all.put("cache-control", "no-cache");
    all.putAll(headers);
    return new Rendition(200, all, null, List.copyOf(events), false);
  }

  boolean streamed() {
    return events != null;
  }

  /** This rendition with extra headers (the reply's own, e.g. {@code retry-after}). */
  Rendition withHeaders(Map<String, String> extra) {
    if (extra.isEmpty()) {
      return this;
    }
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.putAll(extra);
    return new Rendition(status, all, body, events, truncated);
  }
}
