package dev.cfn.flow.swarm;

/**
 * A member's place in its swarm's layout. Every swarm keeps the hierarchical layout (so {@link
 * Topology#AUTO} switches at once): the first member is the {@link #LEAD} (also a star's hub), then
 * coordinators and workers. Under mesh and ring the roles are kept but grant nothing.
 */
public enum Role {
  /** The first member: the hierarchy's lead, the star's hub. */
  LEAD,
  /** Leads up to {@link Topology#MAX_WORKERS_PER_COORDINATOR} workers. */
  COORDINATOR,
  /** Works under one coordinator. */
  WORKER
}
