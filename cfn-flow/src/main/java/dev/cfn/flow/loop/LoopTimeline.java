package dev.cfn.flow.loop;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * A run as a readable timeline, iteration by iteration: every step (when, how long, who, what it
 * said, tokens, cost) followed by what the rules decided, then the totals. {@code cfn loop show}
 * prints it.
 */
public final class LoopTimeline {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final int PREVIEW = 100;

  private LoopTimeline() {}

  /** The timeline of {@code record}, lines ending in {@code \n}. */
  public static String render(LoopRecord record) {
    StringBuilder b = new StringBuilder();
    LoopSpec spec = record.spec();
    b.append("run ")
        .append(record.runId())
        .append(": ")
        .append(record.status())
        .append(record.reason() == null ? "" : " (" + record.reason() + ")")
        .append('\n');
    b.append("task: ").append(oneLine(record.task(), 200)).append('\n');
    b.append(
        String.format(
            Locale.ROOT,
            "agents: implementers %s; validators %s; owner %s%n"
                + "rules: gate %s, consensus %s with quorum %d, at most %d Loop 3 iterations"
                + " per round and %d rounds%n",
            String.join(", ", spec.implementers()),
            String.join(", ", spec.validators()),
            spec.owner(),
            spec.gate().toPlainString(),
            spec.threshold().toPlainString(),
            spec.quorum(),
            spec.maxImplementations(),
            spec.maxValidations()));
    if (record.forkedFrom() != null) {
      b.append("forked from run ")
          .append(record.forkedFrom())
          .append(" at iteration ")
          .append(record.forkedAt())
          .append(" (earlier steps copied, marked =)\n");
    }
    if (!record.keyRun().equals(record.runId())) {
      b.append("call-log keys of run ").append(record.keyRun()).append('\n');
    }
    int last = record.iterations();
    for (int k = 1; k <= last; k++) {
      b.append("\niteration ").append(k).append('\n');
      String prefix = "iteration " + k + ": ";
      for (LoopStep.Phase phase : LoopStep.Phase.values()) {
        for (LoopStep s : record.steps()) {
          if (s.iteration() == k && s.phase() == phase) {
            step(b, s);
          }
        }
        String decided =
            prefix
                + switch (phase) {
                  case IMPLEMENT -> "gate";
                  case VALIDATE -> "consensus";
                  case DECIDE -> "owner";
                  case HUMAN -> "person";
                };
        for (String d : record.decisions()) {
          if (d.startsWith(decided)) {
            b.append("  -> ").append(d.substring(prefix.length())).append('\n');
          }
        }
      }
    }
    long first = record.steps().stream().mapToLong(LoopStep::startedAt).min().orElse(0);
    long end = record.steps().stream().mapToLong(LoopStep::endedAt).max().orElse(0);
    b.append(
        String.format(
            Locale.ROOT,
            "%ntotal: %d steps in %d iterations, %d tokens, $%s, %.1f s%n",
            record.steps().size(),
            last,
            record.tokens(),
            record.costUsd().toPlainString(),
            (end - first) / 1000.0));
    if (!record.followUps().isEmpty()) {
      b.append("follow-ups:\n");
      for (String f : record.followUps()) {
        b.append("  - ").append(oneLine(f, 200)).append('\n');
      }
    }
    return b.toString();
  }

  private static void step(StringBuilder b, LoopStep s) {
    b.append(s.copied() ? "= " : "  ")
        .append(TIME.format(Instant.ofEpochMilli(s.startedAt())))
        .append(String.format(Locale.ROOT, " %6.1fs ", (s.endedAt() - s.startedAt()) / 1000.0))
        .append(String.format(Locale.ROOT, "%-9s ", s.phase()))
        .append(s.agent());
    if (s.phase() == LoopStep.Phase.IMPLEMENT || s.phase() == LoopStep.Phase.VALIDATE) {
      b.append(" #").append(s.index() + 1);
    }
    b.append(": ");
    if (!s.ok()) {
      b.append("FAILED: ").append(oneLine(s.note(), PREVIEW));
    } else {
      switch (s.phase()) {
        case IMPLEMENT ->
            b.append("confidence ")
                .append(s.confidence().toPlainString())
                .append(", result: ")
                .append(oneLine(s.result(), PREVIEW));
        case VALIDATE -> {
          b.append(s.verdict()).append(" with confidence ").append(s.confidence().toPlainString());
          if (!s.findings().isEmpty()) {
            b.append(", findings: ").append(oneLine(String.join("; ", s.findings()), PREVIEW));
          }
        }
        case DECIDE, HUMAN -> {
          b.append(s.decision());
          if (!s.note().isBlank()) {
            b.append(": ").append(oneLine(s.note(), PREVIEW));
          }
        }
      }
    }
    if (s.inputTokens() + s.outputTokens() > 0) {
      b.append(String.format(Locale.ROOT, " [%d+%d tokens", s.inputTokens(), s.outputTokens()));
      if (s.costUsd().signum() > 0) {
        b.append(", $").append(s.costUsd().toPlainString());
      }
      b.append(']');
    }
    b.append('\n');
  }

  private static String oneLine(String text, int max) {
    String t = text == null ? "" : text.strip().replaceAll("\\s+", " ");
    return t.length() > max ? t.substring(0, max - 3) + "..." : t;
  }
}
