package dev.cfn.cluster.pg;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A PostgreSQL 15 server of the tests' own, started from Debian's binaries ({@code
 * /usr/lib/postgresql/15/bin}), never the machine's server on 5432.
 *
 * <p>{@link #shared()} starts one per test JVM: {@code initdb} (with data checksums) into a
 * temporary folder, then {@code postgres} on a free loopback port with its unix socket in that
 * folder and {@code fsync}/{@code synchronous_commit} on. The server runs under {@code setsid} (its
 * own session and process group) and is stopped by its PID (immediate shutdown, then SIGKILL of its
 * group after 10 s) when the JVM exits; the folder is then deleted. Each test takes a schema of its
 * own in the database {@code cfn} ({@link #newSchema}).
 *
 * <p><b>Root.</b> {@code initdb} and {@code postgres} refuse to run as root. When the tests run as
 * root (as in this project's containers), the folder is given to the {@code postgres} OS user
 * (created by Debian's {@code postgresql-15} package) and both programs run through {@code setpriv
 * --reuid postgres --regid postgres --init-groups}, which execs in place (unlike {@code runuser},
 * which forks), so the PID the harness holds is the postmaster's. As another user they run as that
 * user.
 *
 * <p><b>Missing binaries.</b> The harness installs {@code postgresql-15} with {@code apt-get} (as
 * root, or through {@code sudo -n}); when it cannot, it fails with the command to run. A test is
 * never skipped for want of a server.
 */
final class PgServer {
  static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static PgServer shared;

  private final Path dir;
  private final int port;
  private final Process process;
  private final long pid;

  private PgServer(Path dir, int port, Process process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
    this.pid = process.pid();
  }

  /** The server of this JVM, started on first use. */
  static synchronized PgServer shared() {
    if (shared == null) {
      shared = start();
      PgServer server = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "pg-server-stop"));
    }
    return shared;
  }

  /** The JDBC URL of database {@code name} as the superuser {@code cfn}. */
  String url(String name) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + name + "?user=cfn";
  }

  int port() {
    return port;
  }

  /**
   * CPU time (user + system, nanoseconds) the server's processes used so far: the postmaster and
   * its children, read from {@code /proc} (Linux); for measurements.
   */
  long cpuNanos() {
    long ticks = 0;
    List<Long> pids = new ArrayList<>(List.of(pid));
    try {
      Path children = Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children");
      for (String child : Files.readString(children).trim().split("\\s+")) {
        if (!child.isEmpty()) {
          pids.add(Long.parseLong(child));
        }
      }
      for (long p : pids) {
        try {
          String stat = Files.readString(Path.of("/proc", Long.toString(p), "stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
          if (p == pid) { // and the backends that ended: cutime, cstime
            ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
          }
        } catch (IOException gone) {
          // a backend that ended meanwhile
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ticks * 10_000_000L; // USER_HZ = 100 on Linux
  }

  /**
   * Creates an empty schema of its own in the database {@code cfn} and returns a JDBC URL whose
   * {@code currentSchema} is it: as good as a database of its own for {@link PgJournal} (whose
   * tables go to the current schema), and much cheaper than {@code CREATE DATABASE}, which copies
   * and fsyncs a template.
   */
  String newSchema(String prefix) {
    String name = prefix + "_" + DATABASES.incrementAndGet();
    try (Connection c = DriverManager.getConnection(url("cfn"));
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create schema " + name + ": " + e.getMessage(), e);
    }
    return url("cfn") + "&currentSchema=" + name;
  }

  private static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Runs {@code command} as the server's OS user (see the class comment). */
  private static List<String> asServerUser(List<String> command) {
    List<String> out = new ArrayList<>();
    if (root()) {
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
    List<String> install =
        root()
            ? List.of("apt-get", "install", "-y", "-q", "postgresql-15")
            : List.of("sudo", "-n", "apt-get", "install", "-y", "-q", "postgresql-15");
    String output;
    try {
      output = run(install, 600);
    } catch (RuntimeException e) {
      output = e.getMessage();
    }
    if (!Files.isExecutable(BIN.resolve("postgres"))) {
      throw new IllegalStateException(
          "PostgreSQL 15 is not installed in "
              + BIN
              + " and installing it failed ("
              + output.strip()
              + ") (fix: run `sudo apt-get install -y postgresql-15`, then rerun the tests)");
    }
  }

  private static PgServer start() {
    ensureBinaries();
    Path dir;
    try {
      dir = Files.createTempDirectory("cfn-pg");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (root()) {
      run(List.of("chown", "postgres:postgres", dir.toString()), 30);
    }
    Path data = dir.resolve("data");
    run(
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
    int port = freePort();
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
    PgServer server = new PgServer(dir, port, process);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Connection c = DriverManager.getConnection(server.url("postgres"));
          Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE cfn");
        return server;
      } catch (SQLException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          String log = server.log();
          server.stop();
          throw new IllegalStateException(
              "PostgreSQL did not start on port " + port + " within 60 s: " + e + "\n" + log);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while PostgreSQL started", e);
      }
    }
  }

  private String log() {
    try {
      return Files.readString(dir.resolve("server.log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /**
   * Immediate shutdown by PID (SIGQUIT: no checkpoint, the data is thrown away), SIGKILL of the
   * process group after 10 s, then the folder deleted.
   */
  synchronized void stop() {
    if (process.isAlive()) {
      run(List.of("kill", "-QUIT", Long.toString(pid)), 10);
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          run(List.of("kill", "-KILL", "--", "-" + pid), 10);
          process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temporary folder
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs {@code command} to its end (bounded), returning its output; throws on a non-zero exit. */
  private static String run(List<String> command, int seconds) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(command + " did not finish within " + seconds + " s");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed (exit " + p.exitValue() + "): " + text);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + command, e);
    }
  }
}
