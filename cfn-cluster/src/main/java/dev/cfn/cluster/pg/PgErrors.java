package dev.cfn.cluster.pg;

import java.sql.SQLException;

/** How PostgreSQL errors read in cfn's messages: the server's text and its SQLSTATE. */
final class PgErrors {
  /** The fix for an unreachable server. */
  static final String FIX_CONNECT =
      " (fix: check that PostgreSQL runs and that the JDBC URL, user and password reach it)";

  private PgErrors() {}

  static String describe(SQLException e) {
    String state = e.getSQLState();
    String text = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return state == null ? text : text + " [SQLSTATE " + state + "]";
  }
}
