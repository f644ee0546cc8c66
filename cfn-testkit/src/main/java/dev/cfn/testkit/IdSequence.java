package dev.cfn.testkit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Generates the ids a server puts in its responses ({@code chatcmpl-tk000001}, {@code
 * toolu_tk000002}, ...): deterministic within one server, unique across its responses.
 */
final class IdSequence {
  private final AtomicLong next = new AtomicLong(1);

  String next(String prefix) {
    return prefix + String.format("tk%06d", next.getAndIncrement());
  }
}
