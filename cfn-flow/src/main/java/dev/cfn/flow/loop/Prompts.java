package dev.cfn.flow.loop;

import dev.cfn.flow.loop.LoopStep.Phase;
import java.util.List;

/**
 * The prompts the loop sends. They are built from the task and the recorded steps only, so the same
 * run evaluated again (after a restart, in a replay) asks exactly the same questions, and an
 * agent's call-log records (keyed by the prompt's hash) are found again.
 */
final class Prompts {
  private Prompts() {}

  static String implementer(
      LoopSpec spec,
      String task,
      int k,
      int round,
      int attempt,
      int index,
      String feedback,
      List<LoopStep> steps) {
    StringBuilder b = new StringBuilder();
    b.append("You are implementer ")
        .append(index + 1)
        .append(" of ")
        .append(spec.implementers().size())
        .append(" in a CFN Loop (iteration ")
        .append(k)
        .append(": validation round ")
        .append(round)
        .append(", attempt ")
        .append(attempt)
        .append(").\n\nTask:\n")
        .append(task.strip())
        .append('\n');
    LoopStep previous = LoopMachine.find(steps, k - 1, Phase.IMPLEMENT, index);
    if (previous != null && previous.result() != null) {
      b.append("\nYour previous result:\n").append(previous.result().strip()).append('\n');
    }
    if (!feedback.isBlank()) {
      b.append("\nFeedback on the previous iteration (address every point):\n")
          .append(feedback.strip())
          .append('\n');
    }
    b.append("\nAnswer with exactly one JSON object and nothing else:\n")
        .append(Replies.IMPLEMENTER_FORMAT)
        .append(
            "\n\"confidence\" is how sure you are that the result is correct and complete; it must"
                + " be at least ")
        .append(spec.gate().toPlainString())
        .append(" for the work to go to review.");
    return b.toString();
  }

  static String validator(
      LoopSpec spec, String task, int k, int round, int index, List<LoopStep> work) {
    StringBuilder b = new StringBuilder();
    b.append("You are validator ")
        .append(index + 1)
        .append(" of ")
        .append(spec.validators().size())
        .append(" in a CFN Loop (iteration ")
        .append(k)
        .append(", validation round ")
        .append(round)
        .append("). Judge whether the work below does the task correctly and completely.\n\n")
        .append("Task:\n")
        .append(task.strip())
        .append('\n');
    appendWork(b, work);
    b.append("\nAnswer with exactly one JSON object and nothing else:\n")
        .append(Replies.VALIDATOR_FORMAT)
        .append(
            "\nApprove only work you would ship; list every problem that must be fixed in"
                + " \"findings\".");
    return b.toString();
  }

  static String owner(
      String task, int k, Consensus consensus, List<LoopStep> work, List<LoopStep> verdicts) {
    StringBuilder b = new StringBuilder();
    b.append("You are the product owner of a CFN Loop (iteration ")
        .append(k)
        .append("). The validators reached consensus on the work below (")
        .append(consensus.describe())
        .append(
            "). Decide: PROCEED to accept it, DEFER to accept it and record follow-up work, or"
                + " ESCALATE when a person must decide.\n\nTask:\n")
        .append(task.strip())
        .append('\n');
    appendWork(b, work);
    String findings = findings(verdicts);
    if (!findings.isBlank()) {
      b.append("\nThe validators' findings:\n").append(findings).append('\n');
    }
    b.append("\nAnswer with exactly one JSON object and nothing else:\n")
        .append(Replies.OWNER_FORMAT);
    return b.toString();
  }

  /** The validators' verdicts and findings, as feedback for the next Loop 3 iteration. */
  static String findings(List<LoopStep> verdicts) {
    StringBuilder b = new StringBuilder();
    for (LoopStep s : verdicts) {
      b.append("validator ").append(s.index() + 1).append(" (").append(s.agent()).append("): ");
      if (!s.ok()) {
        b.append("no usable verdict: ").append(s.note()).append('\n');
        continue;
      }
      b.append(s.verdict())
          .append(" with confidence ")
          .append(s.confidence().toPlainString())
          .append('\n');
      for (String f : s.findings()) {
        b.append("- ").append(f.strip()).append('\n');
      }
    }
    return b.toString().strip();
  }

  private static void appendWork(StringBuilder b, List<LoopStep> work) {
    for (LoopStep s : work) {
      b.append("\nWork of implementer ")
          .append(s.index() + 1)
          .append(" (")
          .append(s.agent())
          .append(", confidence ")
          .append(s.confidence().toPlainString())
          .append("):\n")
          .append(s.result().strip())
          .append('\n');
    }
  }
}
