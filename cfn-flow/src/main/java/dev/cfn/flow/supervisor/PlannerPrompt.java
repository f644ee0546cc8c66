package dev.cfn.flow.supervisor;

import java.util.List;
import java.util.Map;

/**
 * What the planner is told at each turn: the objective, the members, every step so far, the turn
 * bound, the answer format and, after an invalid answer, what was wrong with it. The whole history
 * is in every prompt, so the planner needs no conversation memory and a turn's request depends only
 * on what happened before it (which is what lets a recorded cassette replay a run).
 */
final class PlannerPrompt {
  /** How much of a member's answer the planner sees again in later turns. */
  static final int MAX_RESULT_IN_HISTORY = 4_000;

  private PlannerPrompt() {}

  static String render(
      String objective,
      Map<String, String> members,
      List<SupervisorStep> history,
      String feedback,
      int turn,
      int maxTurns) {
    StringBuilder p = new StringBuilder(1024);
    p.append("OBJECTIVE:\n").append(objective.strip()).append("\n\n");
    p.append("MEMBERS (give work to one at a time, by name):\n");
    members.forEach(
        (name, what) -> p.append("- ").append(name).append(": ").append(what).append('\n'));
    p.append("\nSTEPS SO FAR:\n");
    int n = 0;
    for (SupervisorStep s : history) {
      if (s.kind() != SupervisorStep.Kind.DELEGATED) {
        continue;
      }
      n++;
      p.append(n).append(". ").append(s.member()).append(" was given: ").append(s.input());
      p.append(s.ok() ? "\n   It answered: " : "\n   It failed: ");
      p.append(clip(s.output())).append('\n');
    }
    if (n == 0) {
      p.append("(none yet)\n");
    }
    p.append("\nTURN ").append(turn).append(" of ").append(maxTurns).append(".\n");
    p.append(
        "Answer with exactly one JSON object and nothing else:\n"
            + "{\"next\": \"<member>\", \"input\": \"<what that member should do>\"} to give a"
            + " member work, or\n"
            + "{\"finish\": \"<the final answer>\"} when the objective is met.\n");
    if (feedback != null) {
      p.append("\nYour previous answer was not a valid plan: ").append(feedback).append('\n');
    }
    return p.toString();
  }

  private static String clip(String s) {
    if (s == null) {
      return "";
    }
    return s.length() <= MAX_RESULT_IN_HISTORY
        ? s
        : s.substring(0, MAX_RESULT_IN_HISTORY) + " [... cut]";
  }
}
