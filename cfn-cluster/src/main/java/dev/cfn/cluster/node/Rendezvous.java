package dev.cfn.cluster.node;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Objects;

/**
 * Rendezvous (highest random weight) hashing of partitions over nodes: the owner of partition
 * {@code p} is the node with the highest {@link #weight}{@code (node, p)}, ties broken by the
 * smaller node id. Every node computes the same owner from the same set of live nodes, with no
 * coordination; when a node joins it takes about {@code P / n} partitions, each from the node that
 * had it, and when one leaves only its partitions move, spread over the others.
 *
 * <p>The weight is 64-bit FNV-1a of the node id's UTF-8 bytes, XORed with the partition times the
 * golden-ratio constant {@code 0x9E3779B97F4A7C15}, then MurmurHash3's 64-bit finalizer ({@code
 * fmix64}), compared as unsigned. It is not cryptographic: it spreads, it does not hide.
 */
public final class Rendezvous {
  private Rendezvous() {}

  /** The weight of {@code node} for {@code partition}, as an unsigned 64-bit number. */
  public static long weight(String node, int partition) {
    long h = 0xcbf29ce484222325L;
    for (byte b : node.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xFF)) * 0x100000001b3L;
    }
    long x = h ^ (partition * 0x9E3779B97F4A7C15L);
    x ^= x >>> 33;
    x *= 0xff51afd7ed558ccdL;
    x ^= x >>> 33;
    x *= 0xc4ceb9fe1a85ec53L;
    x ^= x >>> 33;
    return x;
  }

  /**
   * The owner of {@code partition} among {@code nodes}.
   *
   * @throws IllegalArgumentException when {@code nodes} is empty
   */
  public static String owner(int partition, Collection<String> nodes) {
    Objects.requireNonNull(nodes, "nodes");
    String best = null;
    long bestWeight = 0;
    for (String node : nodes) {
      long w = weight(node, partition);
      int cmp = best == null ? 1 : Long.compareUnsigned(w, bestWeight);
      if (cmp > 0 || (cmp == 0 && node.compareTo(best) < 0)) {
        best = node;
        bestWeight = w;
      }
    }
    if (best == null) {
      throw new IllegalArgumentException("no live nodes to own partition " + partition);
    }
    return best;
  }
}
