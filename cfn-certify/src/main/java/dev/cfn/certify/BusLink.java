package dev.cfn.certify;

import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentRef;

/**
 * How an agent in the bus checks sends to another: {@link #DIRECT} is the runtime's own {@code
 * AgentRef.tell}. The honesty tests put a link that drops or delays messages in its place and
 * assert that the check fails.
 */
@FunctionalInterface
interface BusLink {
  /** The real path: {@code to.tell(payload, from)}. */
  BusLink DIRECT = (from, to, payload) -> to.tell(payload, from);

  /** Sends {@code payload} to {@code to} as the agent whose context is {@code from}. */
  void send(AgentContext from, AgentRef to, Object payload);
}
