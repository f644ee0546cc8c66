package dev.cfn.testkit;

import java.time.Duration;
import java.util.Objects;

/**
 * A network fault a {@link FaultProxy} applies to the connections through it, from {@link
 * FaultProxy#inject} until {@link FaultProxy#heal}.
 *
 * <ul>
 *   <li>{@link #reset()}: every open connection is reset (TCP RST, both sides), and every new one
 *       is reset as soon as it is accepted.
 *   <li>{@link #blackhole()}: nothing crosses, either way, on open or new connections; the bytes
 *       wait in the proxy (as TCP retransmits through a routing black hole) and cross when the
 *       fault heals, unless an endpoint gave up first.
 *   <li>{@link #latency(Duration)}: every chunk of bytes, each way, waits {@code delay} before it
 *       is forwarded.
 *   <li>{@link #halfOpen()}: every open connection, and every new one, loses its upstream side
 *       without the client being told: the upstream sees the connection close, the client sees an
 *       open connection that never answers (no byte, no FIN, no RST), even after the fault heals,
 *       until the client gives up on it.
 *   <li>{@link #slowLink(int)}: each way, each connection is throttled to {@code bytesPerSecond}.
 * </ul>
 */
public sealed interface NetworkFault {
  /** A short name for reports: {@code reset}, {@code blackhole}, {@code latency 500ms}, ... */
  String describe();

  /** Resets open connections and new ones. */
  static NetworkFault reset() {
    return new Reset();
  }

  /** Holds every byte, either way, until the fault heals. */
  static NetworkFault blackhole() {
    return new Blackhole();
  }

  /** Delays every chunk, either way, by {@code delay}. */
  static NetworkFault latency(Duration delay) {
    return new Latency(delay);
  }

  /** Drops the upstream side of open and new connections without telling the client. */
  static NetworkFault halfOpen() {
    return new HalfOpen();
  }

  /** Throttles every connection to {@code bytesPerSecond}, each way. */
  static NetworkFault slowLink(int bytesPerSecond) {
    return new SlowLink(bytesPerSecond);
  }

  /** See {@link NetworkFault#reset()}. */
  record Reset() implements NetworkFault {
    @Override
    public String describe() {
      return "reset";
    }
  }

  /** See {@link NetworkFault#blackhole()}. */
  record Blackhole() implements NetworkFault {
    @Override
    public String describe() {
      return "blackhole";
    }
  }

  /**
   * See {@link NetworkFault#latency(Duration)}.
   *
   * @param delay how long each chunk waits; positive
   */
  record Latency(Duration delay) implements NetworkFault {
    /** Checks the delay. */
    public Latency {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative() || delay.isZero()) {
        throw new IllegalArgumentException("a latency spike needs a positive delay");
      }
    }

    @Override
    public String describe() {
      return "latency spike " + delay.toMillis() + " ms";
    }
  }

  /** See {@link NetworkFault#halfOpen()}. */
  record HalfOpen() implements NetworkFault {
    @Override
    public String describe() {
      return "half-open";
    }
  }

  /**
   * See {@link NetworkFault#slowLink(int)}.
   *
   * @param bytesPerSecond the bandwidth of each connection, each way; at least 1
   */
  record SlowLink(int bytesPerSecond) implements NetworkFault {
    /** Checks the bandwidth. */
    public SlowLink {
      if (bytesPerSecond < 1) {
        throw new IllegalArgumentException("a slow link needs at least 1 byte per second");
      }
    }

    @Override
    public String describe() {
      return "slow link " + bytesPerSecond + " B/s";
    }
  }
}
