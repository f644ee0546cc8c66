package dev.cfn.core;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link SwarmRule}s in force, by swarm, and their check on the route stage. A message whose
 * recipient is in no swarm costs one field read ({@code cell.swarm}); only a message between two
 * members of one swarm with a rule reaches the rule.
 */
final class SwarmRules {
  private final ConcurrentHashMap<String, SwarmRule> rules = new ConcurrentHashMap<>();
  private final Directory directory;
  private volatile boolean any; // false until a rule is installed: RELIABLE sends skip the lookup

  SwarmRules(Directory directory) {
    this.directory = directory;
  }

  void put(String swarm, SwarmRule rule) {
    if (rule == null) {
      rules.remove(swarm);
    } else {
      rules.put(swarm, rule);
      any = true;
    }
  }

  /** Throws {@link SwarmRuleException} when {@code to}'s swarm rule refuses {@code e}. */
  void check(AgentCell to, Envelope e) {
    String swarm = to.swarm;
    if (swarm == null) {
      return;
    }
    SwarmRule rule = rules.get(swarm);
    if (rule == null) {
      return;
    }
    AgentCell from = AgentCell.running();
    if (from == null || !from.id.equals(e.sender())) {
      from = directory.live(e.sender());
    }
    if (from == null || !swarm.equals(from.swarm)) {
      return; // from outside the swarm
    }
    String reason = rule.refusal(e.sender(), to.id);
    if (reason != null) {
      throw new SwarmRuleException(swarm, e.sender(), to.id, reason);
    }
  }

  /** The check for a RELIABLE message before its append (it has no cell in hand). */
  void checkReliable(Envelope e) {
    if (!any || e.recipient() == null) {
      return;
    }
    AgentCell to = directory.live(e.recipient());
    if (to != null) {
      check(to, e);
    }
  }
}
