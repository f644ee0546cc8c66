package dev.cfn.ai.hook;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.ai.internal.json.JsonMappers;

/** The JSON of hook events and reports: one mapper, and the fields every event starts with. */
final class EventJson {
  static final JsonMapper MAPPER = JsonMappers.builder().build();

  private EventJson() {}

  static ObjectNode start(HookEvent event) {
    return MAPPER
        .createObjectNode()
        .put("event", event.moment().label())
        .put("agent", event.agent().toString());
  }
}
