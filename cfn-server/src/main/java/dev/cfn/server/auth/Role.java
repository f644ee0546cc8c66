package dev.cfn.server.auth;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a token may do, each role including everything the roles before it may do. Each route names
 * the least role it needs (the table is in the server's README and {@code dev.cfn.server.Routes}):
 *
 * <ul>
 *   <li>{@link #VIEWER}: reads what runs (agents, their status and mailbox depth, dead-letter ids
 *       and causes without payloads, budgets, the API document); changes nothing, sees no payload
 *       and no memory value.
 *   <li>{@link #AGENT}: what a program acting for agents needs: send, publish and request messages,
 *       read, write and search memory, within its scopes.
 *   <li>{@link #OPERATOR}: runs the node: spawns and stops agents, reads dead letters with their
 *       payloads and replays them.
 *   <li>{@link #ADMIN}: also destroys: purges dead letters.
 * </ul>
 */
public enum Role {
  VIEWER,
  AGENT,
  OPERATOR,
  ADMIN;

  /** True when this role may use a route that needs {@code needed}. */
  public boolean includes(Role needed) {
    return compareTo(needed) >= 0;
  }

  /** The role's name as written on the command line and in the token store: lower case. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The role named {@code text} (any case).
   *
   * @throws IllegalArgumentException naming the roles there are
   */
  public static Role parse(String text) {
    for (Role r : values()) {
      if (r.label().equalsIgnoreCase(text == null ? "" : text.strip())) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "no role named '"
            + text
            + "' (fix: use one of "
            + Arrays.stream(values()).map(Role::label).collect(Collectors.joining(", "))
            + ")");
  }
}
