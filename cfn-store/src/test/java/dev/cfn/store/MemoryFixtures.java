package dev.cfn.store;

import dev.cfn.core.spi.MemoryAccessor;
import java.time.Instant;

/** Principals and a start time for the memory store's tests (see also {@link Fixtures}). */
final class MemoryFixtures {
  static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  static final MemoryAccessor ALICE = MemoryAccessor.agent("alice/1", "swarm-a", "project-x");
  static final MemoryAccessor AMY = MemoryAccessor.agent("amy/1", "swarm-a", "project-x");
  static final MemoryAccessor BOB = MemoryAccessor.agent("bob/1", "swarm-b", "project-x");
  static final MemoryAccessor CAROL = MemoryAccessor.agent("carol/1", "swarm-c", "project-y");
  static final MemoryAccessor LONER = MemoryAccessor.agent("loner/1");
  static final MemoryAccessor OPERATOR = MemoryAccessor.operator();

  private MemoryFixtures() {}
}
