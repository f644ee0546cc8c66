package dev.cfn.cluster.nats;

import dev.cfn.core.AgentId;
import java.nio.charset.StandardCharsets;

/**
 * Which of the {@code P} partitions an agent belongs to: the same answer on every node and in every
 * language, so that the PostgreSQL leases and the NATS subjects agree.
 *
 * <p>The hash is 32-bit FNV-1a over the UTF-8 bytes of {@code type}, one zero byte, then the UTF-8
 * bytes of {@code key} (the zero byte keeps {@code ("ab","c")} apart from {@code ("a","bc")};
 * neither part may contain it). FNV-1a: start from {@code 0x811C9DC5}; for each byte, {@code h = (h
 * ^ byte) * 0x01000193} modulo 2^32. The partition is {@code h} read as an unsigned number modulo
 * {@code P}. FNV-1a is not a cryptographic hash: the partition of an id is public and an adversary
 * choosing keys can load one partition, which costs throughput, never correctness.
 */
public final class Partitioner {

  /** The default number of partitions. */
  public static final int DEFAULT_PARTITIONS = 256;

  /** The most partitions allowed (each is a JetStream consumer). */
  public static final int MAX_PARTITIONS = 4096;

  private final int partitions;

  /**
   * A partitioner over {@code partitions} partitions.
   *
   * @throws IllegalArgumentException when {@code partitions} is not in 1..{@link #MAX_PARTITIONS}
   */
  public Partitioner(int partitions) {
    if (partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new IllegalArgumentException(
          "partitions is "
              + partitions
              + " (fix: use 1 to "
              + MAX_PARTITIONS
              + "; the default is "
              + DEFAULT_PARTITIONS
              + ")");
    }
    this.partitions = partitions;
  }

  /** The number of partitions. */
  public int partitions() {
    return partitions;
  }

  /** The partition of {@code agent}, in {@code 0..partitions-1}. */
  public int partition(AgentId agent) {
    return (int) (Integer.toUnsignedLong(hash(agent)) % partitions);
  }

  /**
   * The 32-bit FNV-1a hash of {@code type}, a zero byte and {@code key} (see the class comment).
   */
  static int hash(AgentId agent) {
    int h = 0x811C9DC5;
    h = fnv(h, agent.type().getBytes(StandardCharsets.UTF_8));
    h = h * 0x01000193; // the zero separator byte: h ^ 0 is h
    return fnv(h, agent.key().getBytes(StandardCharsets.UTF_8));
  }

  private static int fnv(int h, byte[] bytes) {
    for (byte b : bytes) {
      h = (h ^ (b & 0xFF)) * 0x01000193;
    }
    return h;
  }
}
