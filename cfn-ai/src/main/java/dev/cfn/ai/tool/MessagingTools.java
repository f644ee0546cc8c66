package dev.cfn.ai.tool;

import dev.cfn.core.AgentId;
import dev.cfn.core.TopicId;
import java.util.List;

/**
 * {@code send_message} and {@code publish}: the model speaks to other agents through the calling
 * agent's {@link dev.cfn.core.AgentContext}, so messages carry the agent as their sender. Both need
 * the context ({@link ToolExecutor#execute(dev.cfn.ai.model.ToolCall, dev.cfn.core.AgentContext)}
 * from the handler); called without it they return an error result. {@code publish} refuses topics
 * starting with {@value #RESERVED_TOPIC_PREFIX}: those are the runtime's own events (budget
 * exhaustion, lifecycle), which a model must not be able to forge.
 */
final class MessagingTools {
  static final String SEND = "send_message";
  static final String PUBLISH = "publish";

  /** The prefix of the topics the runtime publishes its own events on. */
  static final String RESERVED_TOPIC_PREFIX = "cfn.";

  private MessagingTools() {}

  static List<Tool> create() {
    return List.of(send(), publish());
  }

  private static Tool send() {
    return Tool.of(
        SEND,
        "Sends a text message to another agent, addressed as type/key (for example"
            + " 'reviewer/1'). The agent is started if it is not running.",
        BuiltinSchemas.parse(
            """
            {"type": "object", "properties": {
              "to": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,63}/[!-~]{1,255}$",
                "description": "The receiving agent's id, type/key."},
              "payload": {"type": "string", "description": "The message text."}
            },
            "required": ["to", "payload"], "additionalProperties": false}
            """),
        (args, ctx) -> {
          AgentId to;
          try {
            to = AgentId.parse(args.get("to").asText());
          } catch (IllegalArgumentException e) {
            return ToolResult.error(SEND + ": " + e.getMessage());
          }
          ctx.requireAgentContext(SEND).send(to, args.get("payload").asText());
          return ToolResult.text("sent to " + to);
        });
  }

  private static Tool publish() {
    return Tool.of(
        PUBLISH,
        "Publishes a text message on a topic (dot-separated words such as 'tasks.done'); every"
            + " agent subscribed to a matching pattern receives it.",
        BuiltinSchemas.parse(
            """
            {"type": "object", "properties": {
              "topic": {"type": "string", "pattern": "^[A-Za-z0-9_-]+(\\\\.[A-Za-z0-9_-]+)*$",
                "maxLength": 255, "description": "The topic, such as 'tasks.done'."},
              "payload": {"type": "string", "description": "The message text."},
              "source": {"type": "string", "pattern": "^[!-~]{1,255}$",
                "description": "What the message is about (the topic's source, which picks the receiving instance); your own key when omitted."}
            },
            "required": ["topic", "payload"], "additionalProperties": false}
            """),
        (args, ctx) -> {
          String source =
              args.hasNonNull("source") ? args.get("source").asText() : ctx.agent().key();
          String type = args.get("topic").asText();
          if (type.startsWith(RESERVED_TOPIC_PREFIX)) {
            return ToolResult.error(
                PUBLISH
                    + ": topic '"
                    + type
                    + "' is reserved: topics starting with '"
                    + RESERVED_TOPIC_PREFIX
                    + "' carry the runtime's own events. Publish on another topic, such as"
                    + " 'tasks.done'.");
          }
          TopicId topic;
          try {
            topic = TopicId.of(type, source);
          } catch (IllegalArgumentException e) {
            return ToolResult.error(PUBLISH + ": " + e.getMessage());
          }
          ctx.requireAgentContext(PUBLISH).publish(topic, args.get("payload").asText());
          return ToolResult.text("published on " + topic);
        });
  }
}
