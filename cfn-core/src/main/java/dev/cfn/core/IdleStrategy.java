package dev.cfn.core;

import java.time.Duration;

/**
 * What a carrier thread does when it has no agent to run: spin for {@code spin} (lowest wake-up
 * latency, one core busy), then {@link Thread#yield()} for {@code yield}, then park until work
 * arrives (no CPU, but a wake-up costs a system call and tens of microseconds).
 *
 * <p>These are the budgets for a machine with cores to spare. A carrier that finds itself preempted
 * while spinning (the machine is oversubscribed: spinning would take cores from the threads with
 * work) cuts its budget to the default profile's spin, without yielding, and parks, and grows it
 * back only once no preemption was seen for 100 ms; the metric {@link
 * CfnMetrics#CARRIER_PREEMPTIONS} counts these. On Linux a carrier about to spin longer than that
 * also looks at the machine's runnable threads first and does the same when there are more than one
 * beyond the cores. Parking never delays a wake-up: a sender unparks a parked carrier (the park
 * bound is only a safety net).
 *
 * @param spin how long to busy-spin after the last work
 * @param yield how long to yield after spinning
 */
public record IdleStrategy(Duration spin, Duration yield) {

  /** Spin 20 µs, no yield, then park: cheap on CPU. */
  public static final IdleStrategy DEFAULT =
      new IdleStrategy(Duration.ofNanos(20_000), Duration.ZERO);

  /** Spin 2 ms, yield 10 ms, then park: a busy core in exchange for microsecond wake-ups. */
  public static final IdleStrategy LOW_LATENCY =
      new IdleStrategy(Duration.ofMillis(2), Duration.ofMillis(10));

  /** Validates the durations. */
  public IdleStrategy {
    if (spin == null || yield == null || spin.isNegative() || yield.isNegative()) {
      throw new IllegalArgumentException("idle spin and yield must be zero or positive durations");
    }
  }

  /** {@code default} or {@code low-latency}; throws naming both choices otherwise. */
  public static IdleStrategy named(String profile) {
    return switch (profile) {
      case "default" -> DEFAULT;
      case "low-latency" -> LOW_LATENCY;
      default ->
          throw new IllegalArgumentException(
              "unknown idle profile '" + profile + "'; use 'default' or 'low-latency'");
    };
  }
}
