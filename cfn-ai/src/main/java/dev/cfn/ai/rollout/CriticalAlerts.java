package dev.cfn.ai.rollout;

import java.util.List;

/**
 * The alerts that stop a rollout: a rollout consults it at every evaluation and rolls back as soon
 * as it names one. The alerting of {@code cfn serve} plugs in here; {@link #NONE} when there is no
 * alerting.
 */
@FunctionalInterface
public interface CriticalAlerts {
  /** No alerting: nothing is ever firing. */
  CriticalAlerts NONE = List::of;

  /**
   * The critical alerts firing now, by name (with what fired, if the caller wants), empty when
   * none. Called often: answer from memory.
   *
   * @return the names of the firing critical alerts
   */
  List<String> firing();
}
