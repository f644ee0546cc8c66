package dev.cfn.certify;

import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The crash nodes of one check (reliability, recovery) on one journal: the arguments every start
 * shares, the first start (which seeds the chains), SIGKILL and restart (each node with a log of
 * its own, {@code node-K.log}), the clean finish, and a SIGKILL on close for a node left running
 * when the check failed.
 */
final class CrashRun implements AutoCloseable {
  final Path db;
  private final Path stop;
  private final Path work;
  private final List<String> base = new ArrayList<>();
  private ChildJvm node;
  private int starts;

  /**
   * @param name the journal's name ({@code name.db} in the check's work folder)
   * @param perChain items each chain sends, 0 until the stop file appears
   * @param extra arguments every start takes besides those
   */
  CrashRun(Path work, String name, int chains, long perChain, List<String> extra) {
    this.work = work;
    this.db = work.resolve(name + ".db");
    this.stop = work.resolve("stop");
    base.addAll(
        List.of(
            "--db",
            db.toString(),
            "--stop-file",
            stop.toString(),
            "--chains",
            Integer.toString(chains),
            "--messages",
            Long.toString(perChain)));
    base.addAll(extra);
  }

  /** Starts the first node, which seeds the chains. */
  ChildJvm start() throws IOException {
    return launch(List.of("--seed"));
  }

  /** SIGKILLs the node; returns the wall-clock time just before the kill. */
  long kill() throws InterruptedException {
    long at = System.currentTimeMillis();
    node.kill();
    return at;
  }

  /** Starts the next node on the same journal (after {@link #kill}), with {@code extra} too. */
  ChildJvm restart(List<String> extra) throws IOException {
    return launch(extra);
  }

  private ChildJvm launch(List<String> extra) throws IOException {
    List<String> args = new ArrayList<>(base);
    args.addAll(extra);
    node = CrashNode.start(args, work.resolve("node-" + starts++ + ".log"));
    return node;
  }

  /** Lets the last node stop: the stop file, its {@code idle}, a normal exit, else a failure. */
  void finish() throws IOException, InterruptedException {
    Files.writeString(stop, "stop");
    node.await("idle", 120);
    int code = node.exitWithin(60);
    if (code != 0) {
      throw new IllegalStateException("the last node exited with " + code + ": " + node.cause());
    }
  }

  @Override
  public void close() {
    if (node != null && node.isAlive()) {
      try {
        node.kill(); // the SIGKILL is sent before the wait that may be interrupted
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
