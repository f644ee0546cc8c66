/**
 * Internal to cfn-ai, not API: the few Linux system calls the JDK does not offer, made through the
 * FFM API ({@link dev.cfn.ai.internal.os.Linux}). {@code dev.cfn.ai.tool} uses it to open workspace
 * files beneath the workspace in the kernel ({@code openat2}); {@code dev.cfn.ai.process} uses it
 * to make the JVM non-dumpable and a child subreaper, and to kill and reap process groups.
 *
 * <p>Linux on x86_64 and aarch64 only; elsewhere {@code Linux.available()} is false and the callers
 * fail closed or fall back as their Javadoc says.
 *
 * <p>Public, for cfn-ai's own packages only: {@link dev.cfn.ai.internal.os.Linux} (the calls) and
 * {@link dev.cfn.ai.internal.os.ParentProcess} (the JVM's dumpable and child-subreaper attributes,
 * set once before the first child process) and {@link dev.cfn.ai.internal.os.OrphanReaper} (reaps
 * the orphans re-parented to the JVM that the JDK did not start) and {@link
 * dev.cfn.ai.internal.os.ProcStat} (a process's parent, group, session and start time from {@code
 * /proc}) and {@link dev.cfn.ai.internal.os.ParentWatch} (starts a command under a watcher that
 * kills it when the JVM dies, SIGKILL included; used for MCP stdio servers and process agents'
 * commands).
 *
 * <p>Depends on the JDK ({@code java.lang.foreign}) and SLF4J; no cfn package. The JVM must allow
 * native access for the unnamed module ({@code --enable-native-access=ALL-UNNAMED}, which the
 * {@code cfn} launcher and the test runs pass), or it prints a warning on first use.
 */
package dev.cfn.ai.internal.os;
