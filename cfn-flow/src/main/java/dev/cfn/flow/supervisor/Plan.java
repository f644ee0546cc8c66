package dev.cfn.flow.supervisor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;

/**
 * One planner answer, read strictly: the whole answer is one JSON object (a single Markdown code
 * fence around it is tolerated, nothing else), either {@code {"next": MEMBER, "input": TEXT}} or
 * {@code {"finish": TEXT}}. Anything else (other text, other keys, both forms, a member nobody
 * offers, blank values) is an {@link Invalid} plan whose reason is fed back to the planner.
 */
sealed interface Plan {
  /** The longest input or answer a plan may carry. */
  int MAX_TEXT = 20_000;

  /** Give {@code input} to the member offering {@code next}. */
  record Next(String next, String input) implements Plan {}

  /** The objective is done; {@code answer} is the final answer. */
  record Finish(String answer) implements Plan {}

  /** Not a plan; {@code reason} says what is wrong and how it should look. */
  record Invalid(String reason) implements Plan {}

  ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** Reads {@code text}; {@code members} are the names a {@code next} may take. */
  static Plan read(String text, Collection<String> members) {
    String body = text == null ? "" : text.strip();
    if (body.startsWith("```")) {
      int firstLine = body.indexOf('\n');
      if (firstLine > 0 && body.endsWith("```") && body.length() > firstLine + 3) {
        body = body.substring(firstLine + 1, body.length() - 3).strip();
      }
    }
    JsonNode node;
    try {
      node = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      return new Invalid(
          "the answer is not one JSON object and nothing else (" + e.getOriginalMessage() + ")");
    }
    if (node == null || !node.isObject()) {
      return new Invalid("the answer is JSON but not an object");
    }
    List<String> unknown = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!f.equals("next") && !f.equals("input") && !f.equals("finish")) {
        unknown.add(f);
      }
    }
    if (!unknown.isEmpty()) {
      return new Invalid("unknown keys " + unknown + "; only next, input and finish are allowed");
    }
    boolean finish = node.has("finish");
    boolean next = node.has("next") || node.has("input");
    if (finish == next) {
      return new Invalid(
          finish
              ? "the answer has both finish and next/input; give one of the two forms"
              : "the answer has neither next nor finish");
    }
    if (finish) {
      String answer = text(node, "finish");
      return answer == null
          ? new Invalid("finish must be a non-blank string of at most " + MAX_TEXT + " characters")
          : new Finish(answer);
    }
    String member = text(node, "next");
    String input = text(node, "input");
    if (member == null) {
      return new Invalid("next must be a non-blank string naming a member");
    }
    if (input == null) {
      return new Invalid("input must be a non-blank string of at most " + MAX_TEXT + " characters");
    }
    String known = null;
    for (String m : members) {
      if (m.equalsIgnoreCase(member.strip())) {
        known = m;
      }
    }
    if (known == null) {
      return new Invalid(
          "there is no member '" + member + "'; the members are " + String.join(", ", members));
    }
    return new Next(known, input);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual() || v.asText().isBlank() || v.asText().length() > MAX_TEXT) {
      return null;
    }
    return v.asText();
  }
}
