package dev.cfn.cluster.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * A PostgreSQL 15 server of its own, from Debian's binaries ({@code /usr/lib/postgresql/15/bin}),
 * never the machine's server on 5432: {@code initdb --data-checksums} into a temporary folder, then
 * {@code postgres} on a free loopback port, its unix socket in that folder, {@code fsync} and
 * {@code synchronous_commit} on, under {@code setsid}; database {@code cfn}, superuser {@code cfn},
 * trust authentication on loopback. {@link #close()} (and a JVM shutdown hook) stops it by its PID
 * (immediate shutdown, SIGKILL of its process group after 10 s) and deletes the folder.
 *
 * <p>As root, the folder is given to the {@code postgres} OS user and both programs run through
 * {@code setpriv --reuid postgres --regid postgres --init-groups}, which execs in place, so the PID
 * held is the postmaster's. When the binaries are missing it runs {@code apt-get install -y
 * postgresql-15} (as root, or through {@code sudo -n}) and otherwise fails with that command.
 */
public final class LocalPostgres implements AutoCloseable {
  /** Where Debian's PostgreSQL 15 binaries are. */
  public static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");

  private static final Pattern SCHEMA = Pattern.compile("[a-z][a-z0-9_]{0,40}");

  private final Path dir;
  private final int port;
  private final Process process;
  private final long pid;
  private final AtomicInteger schemas = new AtomicInteger();
  private final Thread hook;
  private final Object lock = new Object();
  private boolean closed;

  private LocalPostgres(Path dir, int port, Process process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
    this.pid = process.pid();
    this.hook = new Thread(this::close, "cfn-local-postgres-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Starts a server and waits (up to 60 s) until it accepts connections and database cfn exists.
   */
  public static LocalPostgres start() {
    ensureBinaries();
    Path dir;
    try {
      dir = Files.createTempDirectory("cfn-pg");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (Processes.root()) {
      Processes.run(List.of("chown", "postgres:postgres", dir.toString()), 30);
    }
    Path data = dir.resolve("data");
    Processes.run(
        asServerUser(
            List.of(
                BIN.resolve("initdb").toString(),
                "-D",
                data.toString(),
                "-U",
                "cfn",
                "--auth=trust",
                "--data-checksums",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions")),
        120);
    int port = Processes.freePort();
    List<String> command = new ArrayList<>(List.of("setsid"));
    command.addAll(
        asServerUser(
            List.of(
                BIN.resolve("postgres").toString(),
                "-D",
                data.toString(),
                "-p",
                Integer.toString(port),
                "-k",
                dir.toString(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
                "-c",
                "max_connections=400",
                "-c",
                "shared_buffers=64MB")));
    Process process;
    try {
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("server.log").toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    LocalPostgres server = new LocalPostgres(dir, port, process);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Connection c = DriverManager.getConnection(server.url("postgres"));
          Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE cfn");
        return server;
      } catch (SQLException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          String log = server.log();
          server.close();
          throw new IllegalStateException(
              "PostgreSQL did not start on port " + port + " within 60 s: " + e + "\n" + log, e);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        server.close();
        throw new IllegalStateException("interrupted while PostgreSQL started", e);
      }
    }
  }

  /** The JDBC URL of database {@code name} as the superuser {@code cfn} (no password). */
  public String url(String name) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + name + "?user=cfn";
  }

  /** The loopback port. */
  public int port() {
    return port;
  }

  /** The server's PID (the postmaster). */
  public long pid() {
    return pid;
  }

  /**
   * CPU time (user + system, nanoseconds) the server's processes used so far: the postmaster, its
   * running children and the children that ended, read from {@code /proc} (Linux).
   */
  public long cpuNanos() {
    long ticks = 0;
    List<Long> pids = new ArrayList<>(List.of(pid));
    try {
      Path children = Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children");
      for (String child : Files.readString(children).trim().split("\\s+")) {
        if (!child.isEmpty()) {
          pids.add(Long.parseLong(child));
        }
      }
    } catch (IOException e) {
      return -1;
    }
    for (long p : pids) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(p), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
        if (p == pid) { // the backends that ended: cutime, cstime
          ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
        }
      } catch (IOException gone) {
        // a backend that ended meanwhile
      }
    }
    return ticks * 10_000_000L; // USER_HZ = 100 on Linux
  }

  /**
   * Creates an empty schema {@code prefix_N} in database {@code cfn} and returns a JDBC URL whose
   * {@code currentSchema} is it (a journal's tables go to the current schema).
   *
   * @param prefix {@code [a-z][a-z0-9_]*}, at most 41 characters
   */
  public String newSchema(String prefix) {
    if (!SCHEMA.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "a schema prefix is [a-z][a-z0-9_]*, at most 41 characters, was '" + prefix + "'");
    }
    String name = prefix + "_" + schemas.incrementAndGet();
    try (Connection c = DriverManager.getConnection(url("cfn"));
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create schema " + name + ": " + e.getMessage(), e);
    }
    return url("cfn") + "&currentSchema=" + name;
  }

  /**
   * Immediate shutdown by PID (SIGQUIT), SIGKILL of the process group after 10 s, then the folder
   * deleted: the data is thrown away.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (process.isAlive()) {
      try {
        Processes.signal(pid, "QUIT");
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          Processes.run(List.of("kill", "-KILL", "--", "-" + pid), 10);
          process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        // gone meanwhile
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
    Processes.deleteTree(dir);
  }

  private String log() {
    try {
      return Files.readString(dir.resolve("server.log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static List<String> asServerUser(List<String> command) {
    List<String> out = new ArrayList<>();
    if (Processes.root()) {
      out.addAll(
          List.of("setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", "--"));
    }
    out.addAll(command);
    return out;
  }

  private static void ensureBinaries() {
    if (Files.isExecutable(BIN.resolve("postgres")) && Files.isExecutable(BIN.resolve("initdb"))) {
      return;
    }
    List<String> install = new ArrayList<>(Processes.sudo());
    install.addAll(List.of("apt-get", "install", "-y", "-q", "postgresql-15"));
    String output;
    try {
      output = Processes.run(install, 600);
    } catch (RuntimeException e) {
      output = e.getMessage();
    }
    if (!Files.isExecutable(BIN.resolve("postgres"))) {
      throw new IllegalStateException(
          "PostgreSQL 15 is not installed in "
              + BIN
              + " and installing it failed ("
              + output.strip()
              + ") (fix: run `sudo apt-get install -y postgresql-15`)");
    }
  }
}
