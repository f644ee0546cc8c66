package dev.cfn.cluster.pg;

/**
 * The tests' own PostgreSQL ({@link PgServer}) for tests outside this package: a fresh schema per
 * call, as a JDBC URL.
 */
public final class TestDatabase {
  private TestDatabase() {}

  /** A JDBC URL on a new, empty schema of the tests' server (started on first use). */
  public static String newSchema(String prefix) {
    return PgServer.shared().newSchema(prefix);
  }
}
