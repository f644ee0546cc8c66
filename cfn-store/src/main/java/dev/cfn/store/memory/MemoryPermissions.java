package dev.cfn.store.memory;

import dev.cfn.core.spi.MemoryAccessException;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules of {@link MemoryAccessLevel}, in Java for one entry and in SQL for a query, and the
 * words that explain a refusal. Both forms live here, side by side, so that they cannot drift:
 * {@code get}, {@code put} and {@code delete} check an entry they have read with {@link #mayRead}
 * and {@link #requireWrite}; {@code list} and {@code search} add {@link #readableFilter} to their
 * {@code WHERE} clause, so an entry a principal may not read never leaves SQLite.
 */
final class MemoryPermissions {

  /** An SQL condition over the entries table (aliased {@code e}) and its arguments, in order. */
  record Filter(String sql, List<Object> args) {}

  private MemoryPermissions() {}

  /** True when {@code who} may read an entry with these access fields. */
  static boolean mayRead(MemoryAccessor who, MemoryAccessLevel level, String owner, Scope scope) {
    return who.isOperator()
        || who.agentId().equals(owner)
        || level == MemoryAccessLevel.PUBLIC
        || isMember(who, level, scope);
  }

  /** True when {@code who} may read {@code entry}. */
  static boolean mayRead(MemoryAccessor who, MemoryEntry entry) {
    return mayRead(who, entry.level(), entry.owner(), Scope.of(entry));
  }

  /** True when {@code who} may change or delete an entry with these access fields. */
  static boolean mayWrite(MemoryAccessor who, MemoryAccessLevel level, String owner, Scope scope) {
    return who.isOperator() || who.agentId().equals(owner) || isMember(who, level, scope);
  }

  /**
   * Throws a {@link MemoryAccessException} (nothing changed) unless {@code who} may change or
   * delete {@code entry}; {@code operation} ("write", "delete") is what the message says was
   * refused.
   */
  static void requireWrite(MemoryAccessor who, String operation, MemoryEntry entry) {
    Scope scope = Scope.of(entry);
    if (!mayWrite(who, entry.level(), entry.owner(), scope)) {
      throw denied(operation, who, entry, writers(entry.level(), entry.owner(), scope));
    }
  }

  /**
   * Throws a {@link MemoryAccessException} (nothing changed) unless {@code who} may change the
   * level of {@code entry} to {@code to}.
   */
  static void requireLevelChange(MemoryAccessor who, MemoryAccessLevel to, MemoryEntry entry) {
    if (!mayChangeLevel(who, entry.owner())) {
      throw denied(
          "change the level (to " + to + ") of",
          who,
          entry,
          "only its owner " + owner(entry.owner()));
    }
  }

  /** True when {@code who} may change the level of an entry: its owner or the operator. */
  static boolean mayChangeLevel(MemoryAccessor who, String owner) {
    return who.isOperator() || who.agentId().equals(owner);
  }

  /** The swarm and project an entry belongs to (either may be null). */
  record Scope(String swarm, String project) {
    static Scope of(MemoryEntry entry) {
      return new Scope(entry.swarm(), entry.project());
    }
  }

  private static boolean isMember(MemoryAccessor who, MemoryAccessLevel level, Scope scope) {
    return switch (level) {
      case SWARM -> who.swarm() != null && who.swarm().equals(scope.swarm());
      case PROJECT -> who.project() != null && who.project().equals(scope.project());
      case PRIVATE, PUBLIC -> false;
    };
  }

  /** The rows of {@code memory_entries e} that {@code who} may read, as SQL. */
  static Filter readableFilter(MemoryAccessor who) {
    if (who.isOperator()) {
      return new Filter("1", List.of());
    }
    StringBuilder sql = new StringBuilder("(e.owner = ? OR e.level = 'PUBLIC'");
    List<Object> args = new ArrayList<>();
    args.add(who.agentId());
    if (who.swarm() != null) {
      sql.append(" OR (e.level = 'SWARM' AND e.swarm = ?)");
      args.add(who.swarm());
    }
    if (who.project() != null) {
      sql.append(" OR (e.level = 'PROJECT' AND e.project = ?)");
      args.add(who.project());
    }
    sql.append(')');
    return new Filter(sql.toString(), List.copyOf(args));
  }

  /** Who may read an entry, for messages: "only its owner 'a'", "everyone", ... */
  static String readers(MemoryAccessLevel level, String owner, Scope scope) {
    return switch (level) {
      case PRIVATE -> "only its owner " + owner(owner);
      case SWARM ->
          "its owner " + owner(owner) + " and the agents of swarm '" + scope.swarm() + "'";
      case PROJECT ->
          "its owner " + owner(owner) + " and the agents of project '" + scope.project() + "'";
      case PUBLIC -> "everyone";
    };
  }

  /** Who may change or delete an entry, for messages. */
  static String writers(MemoryAccessLevel level, String owner, Scope scope) {
    return switch (level) {
      case PRIVATE, PUBLIC -> "only its owner " + owner(owner);
      case SWARM, PROJECT -> readers(level, owner, scope);
    };
  }

  private static String owner(String owner) {
    return MemoryAccessor.OPERATOR_ID.equals(owner) ? "(the operator)" : "'" + owner + "'";
  }

  /**
   * The refusal of {@code operation} ("read", "write", "delete", ...) of {@code entry} to {@code
   * who}: names the entry, its level, who is allowed and who was refused.
   */
  private static MemoryAccessException denied(
      String operation, MemoryAccessor who, MemoryEntry entry, String allowed) {
    return new MemoryAccessException(
        who
            + " may not "
            + operation
            + " memory entry '"
            + entry.key()
            + "' in namespace '"
            + entry.namespace()
            + "': it is "
            + entry.level()
            + "-level, and "
            + allowed
            + " may "
            + operation
            + " it; nothing was changed",
        entry.namespace(),
        entry.key(),
        entry.level());
  }
}
