package dev.cfn.certify;

/** Hears what a certification is doing while it runs, for a terminal's progress lines. */
@FunctionalInterface
public interface Progress {
  /** Ignores everything. */
  Progress NONE = (check, message) -> {};

  /** {@code check} is at the step {@code message} ("kill 2/3", "1,000 agents: passed"). */
  void step(CheckId check, String message);
}
