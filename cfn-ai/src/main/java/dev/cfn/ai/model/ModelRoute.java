package dev.cfn.ai.model;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A routing rule: which agents it applies to, where their calls go, and where they go when that
 * fails. An agent matches when its name matches the {@code agent} glob ({@code *} any characters,
 * {@code ?} one) and its type equals {@code type}; a criterion left null matches everything; the
 * default route has both null.
 *
 * @param agent a glob over the agent's name, or null
 * @param type the agent's type, or null
 * @param target the provider and model to use
 * @param fallbacks alternatives tried in order when the target fails with a retryable error or its
 *     circuit is open
 */
public record ModelRoute(
    String agent, String type, ModelTarget target, List<ModelTarget> fallbacks) {
  public ModelRoute {
    Objects.requireNonNull(target, "target");
    fallbacks = List.copyOf(fallbacks);
    agent = agent == null || agent.isBlank() ? null : agent;
    type = type == null || type.isBlank() ? null : type;
  }

  /**
   * Tells whether this route applies to an agent.
   *
   * @param agentName the agent's name, or null when unknown
   * @param agentType the agent's type, or null when unknown
   * @return true when every criterion this route sets matches
   */
  public boolean matches(String agentName, String agentType) {
    if (agent != null && (agentName == null || !glob(agent).matcher(agentName).matches())) {
      return false;
    }
    return type == null || type.equals(agentType);
  }

  /**
   * Tells whether this route matches every agent (the default route).
   *
   * @return true when it sets neither criterion
   */
  public boolean catchAll() {
    return agent == null && type == null;
  }

  private static Pattern glob(String glob) {
    StringBuilder re = new StringBuilder();
    StringBuilder literal = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*' || c == '?') {
        if (!literal.isEmpty()) {
          re.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        re.append(c == '*' ? ".*" : ".");
      } else {
        literal.append(c);
      }
    }
    if (!literal.isEmpty()) {
      re.append(Pattern.quote(literal.toString()));
    }
    return Pattern.compile(re.toString());
  }
}
