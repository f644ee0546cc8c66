package dev.cfn.store.memory;

import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.store.journal.Fixtures;
import java.time.Instant;

/** Principals and a start time for the memory store's tests (see also {@link Fixtures}). */
public final class MemoryFixtures {
  public static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  public static final MemoryAccessor ALICE =
      MemoryAccessor.agent("alice/1", "swarm-a", "project-x");
  public static final MemoryAccessor AMY = MemoryAccessor.agent("amy/1", "swarm-a", "project-x");
  public static final MemoryAccessor BOB = MemoryAccessor.agent("bob/1", "swarm-b", "project-x");
  public static final MemoryAccessor CAROL =
      MemoryAccessor.agent("carol/1", "swarm-c", "project-y");
  public static final MemoryAccessor LONER = MemoryAccessor.agent("loner/1");
  public static final MemoryAccessor OPERATOR = MemoryAccessor.operator();

  private MemoryFixtures() {}
}
