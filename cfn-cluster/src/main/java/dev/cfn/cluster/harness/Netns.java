package dev.cfn.cluster.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A network namespace joined to the host by a veth pair: {@code 10.231.K.1} on the host's end,
 * {@code 10.231.K.2} inside. {@link #cut} sets the host's end down (no packet passes either way, no
 * connection is reset: a partition), {@link #heal} sets it up again; {@link #exec()} is the prefix
 * that runs a command inside ({@code ip netns exec NAME}, which execs in place, so the PID of the
 * process started is the command's). Needs root (or {@code sudo -n}) and a kernel that allows
 * namespaces; {@link #unavailable} says why not.
 */
public final class Netns implements AutoCloseable {
  private final String name;
  private final String hostEnd;
  private final String innerEnd;
  private final int subnet;

  private Netns(String name, String hostEnd, String innerEnd, int subnet) {
    this.name = name;
    this.hostEnd = hostEnd;
    this.innerEnd = innerEnd;
    this.subnet = subnet;
  }

  /** Why namespaces cannot be made here, or empty when they can (adds and deletes one). */
  public static Optional<String> unavailable() {
    String probe = "cfnprobe" + ProcessHandle.current().pid() % 100_000;
    try {
      ip("netns", "add", probe);
      ip("netns", "del", probe);
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(e.getMessage());
    }
  }

  /**
   * Creates namespace number {@code index} (0 to 9) of this process: its name, veth ends and subnet
   * derive from this JVM's PID and {@code index}, so concurrent runs do not collide.
   */
  public static Netns create(int index) {
    if (index < 0 || index > 9) {
      throw new IllegalArgumentException("index 0 to 9, was " + index);
    }
    long id = (ProcessHandle.current().pid() % 1_000) * 10 + index;
    int subnet = (int) (id % 250) + 1;
    Netns ns = new Netns("cfnc" + id, "cfc" + id + "h", "cfc" + id + "n", subnet);
    tryIp("link", "del", ns.hostEnd); // left over from a killed run
    tryIp("netns", "del", ns.name);
    ip("netns", "add", ns.name);
    try {
      ip("link", "add", ns.hostEnd, "type", "veth", "peer", "name", ns.innerEnd);
      ip("link", "set", ns.innerEnd, "netns", ns.name);
      ip("addr", "add", ns.hostAddress() + "/30", "dev", ns.hostEnd);
      ip("link", "set", ns.hostEnd, "up");
      ns.inside("ip", "addr", "add", ns.innerAddress() + "/30", "dev", ns.innerEnd);
      ns.inside("ip", "link", "set", ns.innerEnd, "up");
      ns.inside("ip", "link", "set", "lo", "up");
    } catch (RuntimeException e) {
      ns.close();
      throw e;
    }
    return ns;
  }

  /** The namespace's name. */
  public String name() {
    return name;
  }

  /** The host's end of the link: where {@link TcpProxy}s for the inside listen. */
  public String hostAddress() {
    return "10.231." + subnet + ".1";
  }

  /** The address inside. */
  public String innerAddress() {
    return "10.231." + subnet + ".2";
  }

  /** The prefix that runs a command inside the namespace. */
  public List<String> exec() {
    List<String> out = new ArrayList<>(Processes.sudo());
    out.addAll(List.of("ip", "netns", "exec", name));
    return out;
  }

  /** Cuts the link: nothing passes until {@link #heal}. */
  public void cut() {
    ip("link", "set", hostEnd, "down");
  }

  /** Restores the link. */
  public void heal() {
    ip("link", "set", hostEnd, "up");
  }

  private void inside(String... command) {
    List<String> full = new ArrayList<>(exec());
    full.addAll(List.of(command));
    Processes.run(full, 30);
  }

  private static void ip(String... args) {
    List<String> command = new ArrayList<>(Processes.sudo());
    command.add("ip");
    command.addAll(List.of(args));
    Processes.run(command, 30);
  }

  private static void tryIp(String... args) {
    try {
      ip(args);
    } catch (RuntimeException e) {
      // nothing to remove
    }
  }

  /** Deletes the veth pair (both ends) and the namespace. */
  @Override
  public void close() {
    tryIp("link", "del", hostEnd);
    tryIp("netns", "del", name);
  }
}
