package dev.cfn.cluster.pg;

/**
 * The test PostgreSQL ({@link PgServer}) as seen from other test packages: the fault tests of
 * {@code dev.cfn.cluster.fault} need a database of their own without widening {@link PgServer}.
 */
public final class PgServers {
  private PgServers() {}

  /** A JDBC URL of a fresh schema on this JVM's test server (started on first use). */
  public static String newSchema(String prefix) {
    return PgServer.shared().newSchema(prefix);
  }

  /** The loopback port of this JVM's test server. */
  public static int port() {
    return PgServer.shared().port();
  }
}
