package dev.cfn.flow.loop;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the agents' structured answers, strictly. An answer is exactly one JSON object, optionally
 * inside one Markdown code fence (```json ... ```), with nothing before or after it; its fields are
 * checked by name and type, and a field it does not know is refused. Anything else is not an
 * answer: the step fails, and the reason (what was wrong and what the answer must look like) goes
 * back to the agent as feedback.
 *
 * <pre>
 * implementer    {"result": "...", "confidence": 0.82}
 * validator      {"verdict": "approve" | "reject", "confidence": 0.9, "findings": ["..."]}
 * product owner  {"decision": "PROCEED" | "DEFER" | "ESCALATE", "reason": "...", "followUps": ["..."]}
 * </pre>
 *
 * Confidences are JSON numbers in [0,1], read exactly (as decimals, never as binary floating
 * point), so 0.7499 is below a gate of 0.75 and 0.75 is not.
 */
final class Replies {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  static final String IMPLEMENTER_FORMAT =
      "{\"result\": \"<your complete work>\", \"confidence\": <a number from 0 to 1>}";
  static final String VALIDATOR_FORMAT =
      "{\"verdict\": \"approve\" or \"reject\", \"confidence\": <a number from 0 to 1>,"
          + " \"findings\": [\"<a problem to fix>\", ...]}";
  static final String OWNER_FORMAT =
      "{\"decision\": \"PROCEED\" or \"DEFER\" or \"ESCALATE\", \"reason\": \"<why>\","
          + " \"followUps\": [\"<work to record for later>\", ...]}";

  private Replies() {}

  /** An answer that is not in the required form; the message says why. */
  static final class Unreadable extends Exception {
    private static final long serialVersionUID = 1L;

    Unreadable(String message) {
      super(message, null, false, false);
    }
  }

  record Implementation(String result, BigDecimal confidence) {}

  record Verdict(boolean approve, BigDecimal confidence, List<String> findings) {}

  record OwnerDecision(String decision, String reason, List<String> followUps) {}

  static Implementation implementation(String text) throws Unreadable {
    JsonNode o = object(text, Set.of("result", "confidence"), IMPLEMENTER_FORMAT);
    String result = requiredText(o, "result", IMPLEMENTER_FORMAT);
    return new Implementation(result, confidence(o, IMPLEMENTER_FORMAT));
  }

  static Verdict verdict(String text) throws Unreadable {
    JsonNode o = object(text, Set.of("verdict", "confidence", "findings"), VALIDATOR_FORMAT);
    String v = requiredText(o, "verdict", VALIDATOR_FORMAT).toLowerCase(Locale.ROOT);
    if (!v.equals("approve") && !v.equals("reject")) {
      throw new Unreadable(
          "\"verdict\" is \""
              + v
              + "\", not \"approve\" or \"reject\"; answer "
              + VALIDATOR_FORMAT);
    }
    return new Verdict(
        v.equals("approve"),
        confidence(o, VALIDATOR_FORMAT),
        texts(o, "findings", VALIDATOR_FORMAT));
  }

  static OwnerDecision ownerDecision(String text) throws Unreadable {
    JsonNode o = object(text, Set.of("decision", "reason", "followUps"), OWNER_FORMAT);
    String d = requiredText(o, "decision", OWNER_FORMAT).toUpperCase(Locale.ROOT);
    if (!d.equals("PROCEED") && !d.equals("DEFER") && !d.equals("ESCALATE")) {
      throw new Unreadable(
          "\"decision\" is \"" + d + "\", not PROCEED, DEFER or ESCALATE; answer " + OWNER_FORMAT);
    }
    JsonNode reason = o.get("reason");
    if (reason != null && !reason.isTextual()) {
      throw new Unreadable("\"reason\" is not a string; answer " + OWNER_FORMAT);
    }
    return new OwnerDecision(
        d, reason == null ? "" : reason.asText(), texts(o, "followUps", OWNER_FORMAT));
  }

  private static JsonNode object(String text, Set<String> fields, String format) throws Unreadable {
    String body = text == null ? "" : text.strip();
    if (body.startsWith("```")) {
      int firstLine = body.indexOf('\n');
      if (firstLine < 0 || !body.endsWith("```") || body.length() < firstLine + 4) {
        throw new Unreadable("the code fence is not closed; answer only " + format);
      }
      String lang = body.substring(3, firstLine).strip();
      if (!lang.isEmpty() && !lang.equalsIgnoreCase("json")) {
        throw new Unreadable("the code fence is " + lang + ", not json; answer only " + format);
      }
      body = body.substring(firstLine + 1, body.length() - 3).strip();
    }
    if (body.isEmpty()) {
      throw new Unreadable("the answer is empty; answer only " + format);
    }
    if (!body.startsWith("{")) {
      throw new Unreadable(
          "the answer is not one JSON object (it starts with "
              + quote(body)
              + "); answer only "
              + format
              + ", with nothing before or after it");
    }
    JsonNode o;
    try {
      o = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new Unreadable(
          "the answer is not valid JSON ("
              + e.getOriginalMessage()
              + "); answer only "
              + format
              + ", with nothing before or after it");
    }
    if (o == null || !o.isObject()) {
      throw new Unreadable("the answer is not a JSON object; answer only " + format);
    }
    for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) {
        throw new Unreadable(
            "the answer has a field \"" + name + "\" that is not part of " + format);
      }
    }
    return o;
  }

  private static String requiredText(JsonNode o, String field, String format) throws Unreadable {
    JsonNode v = o.get(field);
    if (v == null || !v.isTextual() || v.asText().isBlank()) {
      throw new Unreadable(
          "\"" + field + "\" is missing or not a non-empty string; answer " + format);
    }
    return v.asText();
  }

  private static BigDecimal confidence(JsonNode o, String format) throws Unreadable {
    JsonNode v = o.get("confidence");
    if (v == null) {
      throw new Unreadable("the answer has no \"confidence\"; answer " + format);
    }
    if (!v.isNumber()) {
      throw new Unreadable(
          "\"confidence\" is " + v + ", not a number from 0 to 1; answer " + format);
    }
    BigDecimal c = v.decimalValue();
    if (c.signum() < 0 || c.compareTo(BigDecimal.ONE) > 0) {
      throw new Unreadable(
          "\"confidence\" is " + c.toPlainString() + ", outside [0,1]; answer " + format);
    }
    return c;
  }

  private static List<String> texts(JsonNode o, String field, String format) throws Unreadable {
    JsonNode v = o.get(field);
    List<String> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    if (!v.isArray()) {
      throw new Unreadable("\"" + field + "\" is not a list of strings; answer " + format);
    }
    for (JsonNode item : v) {
      if (!item.isTextual()) {
        throw new Unreadable(
            "\"" + field + "\" holds " + item + ", not a string; answer " + format);
      }
      out.add(item.asText());
    }
    return out;
  }

  private static String quote(String body) {
    String head = body.length() > 40 ? body.substring(0, 40) + "..." : body;
    return "\"" + head.replace("\n", " ") + "\"";
  }
}
