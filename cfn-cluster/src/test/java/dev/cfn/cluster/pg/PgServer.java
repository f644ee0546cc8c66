package dev.cfn.cluster.pg;

import dev.cfn.cluster.harness.LocalPostgres;

/**
 * The tests' own PostgreSQL 15: one {@link LocalPostgres} per test JVM, started on first use and
 * stopped by its PID when the JVM exits (its shutdown hook), never the machine's server on 5432. It
 * runs from Debian's binaries under {@code setsid} on a free loopback port, as the {@code postgres}
 * OS user through {@code setpriv} when the tests run as root, and installs {@code postgresql-15}
 * with {@code apt-get} when the binaries are missing (failing with the command to run when it
 * cannot: a test is never skipped for want of a server). Each test takes a schema of its own in the
 * database {@code cfn} ({@link LocalPostgres#newSchema}): as good as a database of its own for
 * {@link PgJournal} (whose tables go to the current schema), and much cheaper than {@code CREATE
 * DATABASE}.
 */
final class PgServer {
  private static LocalPostgres shared;

  private PgServer() {}

  /** The server of this JVM, started on first use. */
  static synchronized LocalPostgres shared() {
    if (shared == null) {
      shared = LocalPostgres.start();
    }
    return shared;
  }
}
