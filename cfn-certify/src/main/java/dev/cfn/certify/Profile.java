package dev.cfn.certify;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How much each check does. {@link #quick()} keeps a whole run under two minutes on a two-core
 * machine; {@link #full()} uses at least the seed's sizes.
 *
 * @param name the profile's name, as given to {@code --profile}
 * @param latencyRate paced messages per second in the latency check
 * @param latencyWarmup paced sending before the measured samples
 * @param latencySamples measured one-way messages
 * @param throughputPairs agent pairs bouncing messages in the throughput check
 * @param throughputInFlight messages in flight per pair
 * @param throughputWarmup bouncing before the measured window
 * @param throughputMeasure the measured window
 * @param coordinationSizes the swarm sizes tried in turn, smallest first
 * @param coordinationDeadline the deadline of one coordination round
 * @param reliabilityMessages reliable messages the reliability check sends
 * @param reliabilityChains producer/consumer pairs in the crash node
 * @param reliabilityKills SIGKILLs during the reliability check
 * @param failEvery every {@code failEvery}-th message's handler fails on its first attempt
 * @param recoveryKills SIGKILLs in the recovery check, each one timed
 * @param killMinMs shortest run of a node before it is killed
 * @param killMaxMs longest run of a node before it is killed
 * @param integrityRecords records written through each store in the integrity check
 * @param uptime how long the uptime check probes its node
 * @param uptimeKills deliberate SIGKILLs during the uptime check
 * @param monitoring how long the monitoring check scrapes under load
 * @param resilienceRounds rounds of the ten network fault scenarios (five faults, two targets)
 * @param faultHold how long each network fault lasts before it heals
 */
public record Profile(
    String name,
    int latencyRate,
    Duration latencyWarmup,
    int latencySamples,
    int throughputPairs,
    int throughputInFlight,
    Duration throughputWarmup,
    Duration throughputMeasure,
    List<Integer> coordinationSizes,
    Duration coordinationDeadline,
    int reliabilityMessages,
    int reliabilityChains,
    int reliabilityKills,
    int failEvery,
    int recoveryKills,
    int killMinMs,
    int killMaxMs,
    int integrityRecords,
    Duration uptime,
    int uptimeKills,
    Duration monitoring,
    int resilienceRounds,
    Duration faultHold) {

  /** The profile names {@link #named} knows. */
  public static final List<String> NAMES = List.of("quick", "full");

  /** Validates the sizes. */
  public Profile {
    Objects.requireNonNull(name, "name");
    coordinationSizes = List.copyOf(coordinationSizes);
    if (latencyRate < 1
        || latencySamples < 1
        || throughputPairs < 1
        || throughputInFlight < 1
        || coordinationSizes.isEmpty()
        || reliabilityMessages < 1
        || reliabilityChains < 1
        || reliabilityKills < 0
        || failEvery < 1
        || recoveryKills < 1
        || killMinMs < 0
        || killMaxMs < killMinMs
        || integrityRecords < 1
        || uptime.toMillis() < 1_000
        || uptimeKills < 0
        || monitoring.toMillis() < 1_000
        || resilienceRounds < 1
        || faultHold.toMillis() < 100) {
      throw new IllegalArgumentException("profile '" + name + "' has a size out of range");
    }
  }

  /** Under two minutes on a two-core machine: the README's command and CI. */
  public static Profile quick() {
    return new Profile(
        "quick",
        5_000,
        Duration.ofSeconds(1),
        10_000,
        200,
        32,
        Duration.ofSeconds(1),
        Duration.ofSeconds(3),
        List.of(100, 1_000, 10_000),
        Duration.ofSeconds(10),
        5_000,
        4,
        3,
        100,
        3,
        200,
        800,
        300,
        Duration.ofSeconds(15),
        1,
        Duration.ofSeconds(4),
        1,
        Duration.ofMillis(1000));
  }

  /**
   * At least the seed's sizes: 10,000 latency samples (here 50,000), 5 s of throughput, 100,000
   * reliable messages, 10 recoveries, 1,000 integrity records per store, 20 network resilience
   * scenarios.
   */
  public static Profile full() {
    return new Profile(
        "full",
        10_000,
        Duration.ofSeconds(3),
        50_000,
        500,
        64,
        Duration.ofSeconds(2),
        Duration.ofSeconds(5),
        List.of(100, 1_000, 10_000, 100_000),
        Duration.ofSeconds(30),
        100_000,
        4,
        10,
        100,
        10,
        300,
        3_000,
        1_000,
        Duration.ofSeconds(120),
        3,
        Duration.ofSeconds(15),
        2,
        Duration.ofSeconds(3));
  }

  /**
   * The profile called {@code name}.
   *
   * @throws IllegalArgumentException naming the choices when there is none
   */
  public static Profile named(String name) {
    return switch (name) {
      case "quick" -> quick();
      case "full" -> full();
      default ->
          throw new IllegalArgumentException(
              "unknown profile '" + name + "' (fix: choose " + String.join(" or ", NAMES) + ")");
    };
  }
}
