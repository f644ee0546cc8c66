package dev.cfn.core.spi;

/**
 * Who may read and who may change a {@link MemoryEntry}. The entry's owner, swarm and project are
 * those of the principal that created it ({@link MemoryAccessor}) and never change; the level says
 * which other principals reach it.
 *
 * <ul>
 *   <li>{@link #PRIVATE}: the owner reads and writes;
 *   <li>{@link #SWARM}: the owner and the agents of the entry's swarm read and write;
 *   <li>{@link #PROJECT}: the owner and the agents of the entry's project read and write;
 *   <li>{@link #PUBLIC}: everyone reads, the owner writes.
 * </ul>
 *
 * <p>Shared levels are shared for writing too, because a swarm's or project's memory is a
 * blackboard its members fill together; public memory is a publication, readable by every agent but
 * changed only by its author, so that one agent cannot rewrite what all others read. Changing an
 * entry's level is reserved to its owner (a member could otherwise publish or hide a shared entry).
 * The {@linkplain MemoryAccessor#operator() operator} may do everything.
 */
public enum MemoryAccessLevel {
  /** Only the owning agent. The default of a new entry. */
  PRIVATE,
  /** The owner and every agent of the entry's swarm. */
  SWARM,
  /** The owner and every agent of the entry's project. */
  PROJECT,
  /** Readable by everyone, writable by the owner only. */
  PUBLIC
}
