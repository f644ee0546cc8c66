package dev.cfn.flow.loop;

import dev.cfn.flow.loop.LoopStep.Phase;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules of the CFN Loop as a pure function of a run's steps: {@link #evaluate} folds the steps
 * recorded so far through Loop 3 (the gate), Loop 2 (the consensus) and Loop 4 (the owner, then a
 * person) and returns what was decided and what comes next: the calls still to make, a wait for a
 * person, or the end. Nothing else is kept, so a run that restarts, a replay and a fork all reach
 * their state by evaluating their steps again, with the same rules and the same prompts.
 */
final class LoopMachine {
  private LoopMachine() {}

  /** A call the loop needs answered: who, with what prompt. */
  record Call(int iteration, Phase phase, int index, String agent, String prompt) {
    String id() {
      return iteration + "." + phase.name().charAt(0) + "." + index;
    }
  }

  /** What comes next. */
  sealed interface Next {}

  /** Calls to make (some may be under way already). */
  record Calls(List<Call> calls) implements Next {}

  /** The owner escalated in {@code iteration}: a person decides. */
  record Waiting(int iteration, String reason) implements Next {}

  /** The run is over. */
  record Finished(LoopStatus status, String reason) implements Next {}

  record Evaluation(List<String> decisions, Next next) {}

  static Evaluation evaluate(LoopSpec spec, String task, List<LoopStep> steps) {
    List<String> decisions = new ArrayList<>();
    int k = 1;
    int round = 1;
    int attempt = 1;
    String feedback = "";
    while (true) {
      // Loop 3: every implementer works the task
      List<LoopStep> work = new ArrayList<>();
      List<Call> missing = new ArrayList<>();
      for (int i = 0; i < spec.implementers().size(); i++) {
        LoopStep s = find(steps, k, Phase.IMPLEMENT, i);
        if (s == null) {
          missing.add(
              new Call(
                  k,
                  Phase.IMPLEMENT,
                  i,
                  spec.implementers().get(i),
                  Prompts.implementer(spec, task, k, round, attempt, i, feedback, steps)));
        } else {
          work.add(s);
        }
      }
      if (!missing.isEmpty()) {
        return new Evaluation(decisions, new Calls(missing));
      }
      List<String> problems = new ArrayList<>();
      for (LoopStep s : work) {
        String who = "implementer " + (s.index() + 1) + " (" + s.agent() + ")";
        if (!s.ok()) {
          problems.add(who + ": no usable answer: " + s.note());
        } else if (s.confidence().compareTo(spec.gate()) < 0) {
          problems.add(
              who
                  + ": confidence "
                  + s.confidence().toPlainString()
                  + " is below the gate "
                  + spec.gate().toPlainString());
        }
      }
      if (!problems.isEmpty()) {
        decisions.add(
            "iteration " + k + ": gate not met (" + problems.size() + " of " + work.size() + ")");
        if (attempt >= spec.maxImplementations()) {
          return new Evaluation(
              decisions,
              new Finished(
                  LoopStatus.FAILED,
                  "the gate "
                      + spec.gate().toPlainString()
                      + " was not met in "
                      + attempt
                      + " Loop 3 iterations of round "
                      + round
                      + ": "
                      + String.join("; ", problems)));
        }
        feedback = String.join("\n", problems);
        k++;
        attempt++;
        continue;
      }
      decisions.add("iteration " + k + ": gate met");

      // Loop 2: the validators judge the work
      List<Consensus.Vote> votes = new ArrayList<>();
      List<LoopStep> verdicts = new ArrayList<>();
      for (int j = 0; j < spec.validators().size(); j++) {
        LoopStep s = find(steps, k, Phase.VALIDATE, j);
        if (s == null) {
          missing.add(
              new Call(
                  k,
                  Phase.VALIDATE,
                  j,
                  spec.validators().get(j),
                  Prompts.validator(spec, task, k, round, j, work)));
        } else {
          verdicts.add(s);
          votes.add(
              s.ok()
                  ? new Consensus.Vote("approve".equals(s.verdict()), s.confidence())
                  : Consensus.Vote.UNREADABLE);
        }
      }
      if (!missing.isEmpty()) {
        return new Evaluation(decisions, new Calls(missing));
      }
      Consensus consensus = Consensus.of(votes, spec.threshold(), spec.quorum());
      decisions.add("iteration " + k + ": consensus " + consensus.describe());
      if (!consensus.reached()) {
        if (round >= spec.maxValidations()) {
          return new Evaluation(
              decisions,
              new Finished(
                  LoopStatus.FAILED,
                  "no consensus in "
                      + round
                      + " Loop 2 rounds; the last: "
                      + consensus.describe()));
        }
        feedback = Prompts.findings(verdicts);
        k++;
        round++;
        attempt = 1;
        continue;
      }

      // Loop 4: the product owner decides
      LoopStep owner = find(steps, k, Phase.DECIDE, 0);
      if (owner == null) {
        return new Evaluation(
            decisions,
            new Calls(
                List.of(
                    new Call(
                        k,
                        Phase.DECIDE,
                        0,
                        spec.owner(),
                        Prompts.owner(task, k, consensus, work, verdicts)))));
      }
      String decision = owner.ok() ? owner.decision() : "ESCALATE";
      decisions.add(
          "iteration "
              + k
              + ": owner "
              + decision
              + (owner.ok() ? "" : " (its answer could not be read: " + owner.note() + ")"));
      switch (decision) {
        case "PROCEED" -> {
          return new Evaluation(
              decisions, new Finished(LoopStatus.ACCEPTED, "the product owner decided PROCEED"));
        }
        case "DEFER" -> {
          return new Evaluation(
              decisions,
              new Finished(
                  LoopStatus.DEFERRED,
                  "the product owner decided DEFER with "
                      + owner.followUps().size()
                      + " follow-ups"));
        }
        default -> {}
      }
      LoopStep person = find(steps, k, Phase.HUMAN, 0);
      if (person == null) {
        return new Evaluation(
            decisions,
            new Waiting(
                k,
                "the product owner escalated"
                    + (owner.ok() && !owner.note().isBlank() ? ": " + owner.note() : "")));
      }
      decisions.add("iteration " + k + ": person " + person.decision());
      return new Evaluation(
          decisions,
          switch (person.decision()) {
            case "PROCEED" -> new Finished(LoopStatus.ACCEPTED, "a person decided PROCEED");
            case "DEFER" -> new Finished(LoopStatus.DEFERRED, "a person decided DEFER");
            default ->
                new Finished(
                    LoopStatus.ABORTED,
                    "a person aborted the run"
                        + (person.note().isBlank() ? "" : ": " + person.note()));
          });
    }
  }

  static LoopStep find(List<LoopStep> steps, int iteration, Phase phase, int index) {
    for (LoopStep s : steps) {
      if (s.answers(iteration, phase, index)) {
        return s;
      }
    }
    return null;
  }
}
