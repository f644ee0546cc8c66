/**
 * The child-JVM harness of cfn's crash tests: {@link dev.cfn.certify.harness.ChildJvm} starts a
 * main class in a JVM of its own on the current class path, reads the lines it prints, waits for
 * one (bounded, naming the child's log when it never comes or the child dies) and kills it with a
 * SIGKILL. {@code cfn certify}'s crash, served and uptime nodes, {@code cfn chaos}'s workers and
 * {@code cfn dr drill}'s served nodes ({@code cfn serve} in a JVM of its own) are all run through
 * it: the one way cfn starts a child JVM (cfn-cli's own {@code WorkerJvm} is gone into it).
 *
 * <p>Internal to cfn's own commands (cfn-certify and cfn-cli), public only because cfn-cli is
 * another module: not an API for users.
 *
 * <p>Depends on the JDK only.
 */
package dev.cfn.certify.harness;
