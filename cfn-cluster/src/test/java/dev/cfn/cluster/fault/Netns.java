package dev.cfn.cluster.fault;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of the test's own joined to the host by a veth pair: {@code 10.231.K.1} on
 * the host's end, {@code 10.231.K.2} inside. {@link #cut} sets the host's end down (no packet
 * passes either way, no connection is reset: a partition), {@link #heal} sets it up again. Needs
 * root (or {@code sudo -n}) and a kernel that allows namespaces; {@link #unavailable} says why not.
 */
final class Netns implements AutoCloseable {
  private final String name;
  private final String hostEnd;
  private final String innerEnd;
  private final int subnet;
  private final List<String> sudo;

  private Netns(String name, String hostEnd, String innerEnd, int subnet, List<String> sudo) {
    this.name = name;
    this.hostEnd = hostEnd;
    this.innerEnd = innerEnd;
    this.subnet = subnet;
    this.sudo = sudo;
  }

  private static List<String> sudo() {
    return "root".equals(System.getProperty("user.name")) ? List.of() : List.of("sudo", "-n");
  }

  /** Why namespaces cannot be made here, or empty when they can. */
  static Optional<String> unavailable() {
    String probe = "cfnprobe" + ProcessHandle.current().pid() % 100_000;
    try {
      run(sudo(), "ip", "netns", "add", probe);
      run(sudo(), "ip", "netns", "del", probe);
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(e.getMessage());
    }
  }

  static Netns create() {
    long id = ProcessHandle.current().pid() % 10_000;
    int subnet = (int) (id % 250) + 1;
    Netns ns = new Netns("cfnp" + id, "cfv" + id + "h", "cfv" + id + "n", subnet, sudo());
    ns.ip("link", "del", ns.hostEnd).ifPresent(e -> {}); // left over from a killed run
    ns.ip("netns", "del", ns.name).ifPresent(e -> {});
    ns.must("netns", "add", ns.name);
    try {
      ns.must("link", "add", ns.hostEnd, "type", "veth", "peer", "name", ns.innerEnd);
      ns.must("link", "set", ns.innerEnd, "netns", ns.name);
      ns.must("addr", "add", ns.hostAddress() + "/30", "dev", ns.hostEnd);
      ns.must("link", "set", ns.hostEnd, "up");
      ns.inside("ip", "addr", "add", ns.innerAddress() + "/30", "dev", ns.innerEnd);
      ns.inside("ip", "link", "set", ns.innerEnd, "up");
      ns.inside("ip", "link", "set", "lo", "up");
    } catch (RuntimeException e) {
      ns.close();
      throw e;
    }
    return ns;
  }

  String hostAddress() {
    return "10.231." + subnet + ".1";
  }

  String innerAddress() {
    return "10.231." + subnet + ".2";
  }

  /** The prefix that runs a command inside the namespace. */
  List<String> exec() {
    List<String> out = new ArrayList<>(sudo);
    out.addAll(List.of("ip", "netns", "exec", name));
    return out;
  }

  void cut() {
    must("link", "set", hostEnd, "down");
  }

  void heal() {
    must("link", "set", hostEnd, "up");
  }

  private void inside(String... command) {
    List<String> full = new ArrayList<>(exec());
    full.addAll(List.of(command));
    run(List.of(), full.toArray(String[]::new));
  }

  private void must(String... args) {
    ip(args)
        .ifPresent(
            e -> {
              throw new IllegalStateException(e);
            });
  }

  private Optional<String> ip(String... args) {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    try {
      run(sudo, command.toArray(String[]::new));
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(e.getMessage());
    }
  }

  private static void run(List<String> prefix, String... command) {
    List<String> full = new ArrayList<>(prefix);
    full.addAll(List.of(command));
    try {
      Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(full + " did not finish within 30 s");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            full
                + " failed (exit "
                + p.exitValue()
                + "): "
                + new String(out, StandardCharsets.UTF_8).strip());
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + full + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + full, e);
    }
  }

  /** Deletes the veth pair (both ends) and the namespace. */
  @Override
  public void close() {
    ip("link", "del", hostEnd);
    ip("netns", "del", name);
  }
}
