package dev.cfn.certify;

import java.nio.file.Path;

/** One of the ten checks: drives its subject on the real path and compares with the target. */
interface Check {
  /** Which check this is. */
  CheckId id();

  /** How it measures, for the report (also when it fails). */
  String method(Context ctx);

  /** Runs the check; a thrown exception makes it a failed check with the reason. */
  CheckResult run(Context ctx) throws Exception;

  /**
   * What a check runs with.
   *
   * @param profile the sizes
   * @param targets the targets
   * @param progress where to report its steps
   * @param work a folder of its own for files (journals, stores, logs)
   */
  record Context(Profile profile, Targets targets, Progress progress, Path work) {
    double target(CheckId id) {
      return targets.of(id);
    }

    void step(CheckId id, String message) {
      progress.step(id, message);
    }
  }
}
