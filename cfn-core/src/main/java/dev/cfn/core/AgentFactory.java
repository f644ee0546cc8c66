package dev.cfn.core;

/** Creates a fresh agent instance for an id: on spawn, on lazy activation and on restart. */
@FunctionalInterface
public interface AgentFactory {
  /** Returns a new instance; never a shared one, since a restart must start from clean state. */
  Agent create(AgentId id) throws Exception;
}
