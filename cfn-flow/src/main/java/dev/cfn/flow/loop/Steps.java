package dev.cfn.flow.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.flow.loop.LoopStep.Phase;

/**
 * A step's stored form, and how an answer becomes a step: {@link #read} applies the strict reading
 * of {@link Replies} for the step's phase, so a raw answer (what the agent said) becomes a step
 * with its result, confidence, verdict or decision, or a failed step saying why it is not one.
 */
final class Steps {
  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private Steps() {}

  static String toJson(LoopStep step) {
    try {
      return JSON.writeValueAsString(step);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a loop step could not be written as JSON", e);
    }
  }

  static LoopStep fromJson(String json) {
    try {
      return JSON.readValue(json, LoopStep.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a loop step: " + e.getOriginalMessage(), e);
    }
  }

  /** A raw step, its text the agent's answer ({@code ok}) or why the call failed (not ok). */
  static LoopStep raw(
      int iteration,
      Phase phase,
      String agent,
      int index,
      boolean ok,
      String text,
      long inputTokens,
      long outputTokens,
      java.math.BigDecimal cost,
      long startedAt,
      long endedAt) {
    return new LoopStep(
        iteration,
        phase,
        agent,
        index,
        ok,
        text,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        inputTokens,
        outputTokens,
        cost,
        startedAt,
        endedAt,
        false);
  }

  /** Reads a raw step's answer by the rules of its phase. */
  static LoopStep read(LoopStep raw) {
    if (!raw.ok()) {
      return failed(raw, "the call failed: " + raw.text());
    }
    try {
      return switch (raw.phase()) {
        case IMPLEMENT -> {
          Replies.Implementation r = Replies.implementation(raw.text());
          yield with(raw, r.result(), r.confidence(), null, null, null, null, null);
        }
        case VALIDATE -> {
          Replies.Verdict v = Replies.verdict(raw.text());
          yield with(
              raw,
              null,
              v.confidence(),
              v.approve() ? "approve" : "reject",
              v.findings(),
              null,
              null,
              null);
        }
        case DECIDE -> {
          Replies.OwnerDecision d = Replies.ownerDecision(raw.text());
          yield with(raw, null, null, null, null, d.decision(), d.reason(), d.followUps());
        }
        case HUMAN -> raw;
      };
    } catch (Replies.Unreadable e) {
      return failed(raw, e.getMessage());
    }
  }

  private static LoopStep failed(LoopStep raw, String why) {
    return new LoopStep(
        raw.iteration(),
        raw.phase(),
        raw.agent(),
        raw.index(),
        false,
        raw.text(),
        null,
        null,
        null,
        null,
        null,
        why,
        null,
        raw.inputTokens(),
        raw.outputTokens(),
        raw.costUsd(),
        raw.startedAt(),
        raw.endedAt(),
        false);
  }

  private static LoopStep with(
      LoopStep raw,
      String result,
      java.math.BigDecimal confidence,
      String verdict,
      java.util.List<String> findings,
      String decision,
      String note,
      java.util.List<String> followUps) {
    return new LoopStep(
        raw.iteration(),
        raw.phase(),
        raw.agent(),
        raw.index(),
        true,
        raw.text(),
        result,
        confidence,
        verdict,
        findings,
        decision,
        note,
        followUps,
        raw.inputTokens(),
        raw.outputTokens(),
        raw.costUsd(),
        raw.startedAt(),
        raw.endedAt(),
        false);
  }
}
