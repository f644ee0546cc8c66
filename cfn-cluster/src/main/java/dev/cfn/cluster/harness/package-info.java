/**
 * Local servers and faults for trying a cluster on one machine: what {@code cfn chaos cluster}
 * starts at run time (main code, not a test-jar), self-contained so that other commands (say {@code
 * cfn bench cluster}) can use it too.
 *
 * <ul>
 *   <li>{@link dev.cfn.cluster.harness.LocalNats}: a JetStream cluster of {@code n} nats-server
 *       processes (Debian's {@code /usr/sbin/nats-server}) on free loopback ports, each config
 *       checked with {@code nats-server -t}, started under {@code setsid} and known by the PID in
 *       its {@code pid_file}; a server can be SIGKILLed (the stream leader found through JetStream)
 *       and restarted on its ports and store.
 *   <li>{@link dev.cfn.cluster.harness.LocalPostgres}: a PostgreSQL 15 of its own ({@code initdb
 *       --data-checksums} into a temporary folder, {@code postgres} on a free loopback port under
 *       {@code setsid}, {@code fsync} and {@code synchronous_commit} on), stopped by its PID; as
 *       root both run as the {@code postgres} OS user through {@code setpriv}.
 *   <li>{@link dev.cfn.cluster.harness.Netns} and {@link dev.cfn.cluster.harness.TcpProxy}: a
 *       network namespace joined to the host by a veth pair, whose link can be cut and healed (a
 *       network partition), and the TCP forwarders by which a process inside reaches servers that
 *       listen on loopback only. Needs root (or {@code sudo -n}).
 * </ul>
 *
 * <p>A node in a JVM of its own (the fault tests' child nodes, {@code cfn chaos cluster}'s nodes)
 * is cfn-testkit's {@code dev.cfn.testkit.process.ChildJvm}, cfn's one child-JVM class.
 *
 * <p>Every process is started by the harness with {@code setsid} and stopped by its own PID (also
 * from a JVM shutdown hook), never by name. Nothing here touches the machine's own servers (NATS on
 * 4222, PostgreSQL on 5432). The module's tests use these classes too (their {@code NatsCluster}
 * and {@code PgServer} in test sources are views of {@link dev.cfn.cluster.harness.LocalNats} and
 * {@link dev.cfn.cluster.harness.LocalPostgres}). See {@code docs/cluster.md}.
 */
package dev.cfn.cluster.harness;
