/**
 * Agents that run external programs: {@link dev.cfn.ai.process.ProcessAgent} runs a command (a
 * model CLI such as {@code claude -p}, a linter, any program) per message, or keeps one long-lived
 * process that speaks JSON lines or text lines, under the runtime's supervision.
 *
 * <p>Public: {@link dev.cfn.ai.process.ProcessAgent}, its configuration {@link
 * dev.cfn.ai.process.ProcessSpec} (with its {@code Mode} and {@code Stdin}, and {@code runOnce} for
 * one run outside an agent, as cfn's hooks use it), the input {@link
 * dev.cfn.ai.process.ProcessRequest} and the reply {@link dev.cfn.ai.process.ProcessResult}.
 * Package-private, beside them: one per-message run ({@code PerMessageRun}), the long-lived process
 * ({@code LongLivedProcess}), the process-tree kill ({@code ProcessTree}), the session each command
 * starts in ({@code SessionLauncher}), the timeout ({@code Watchdog}), the pipe threads ({@code
 * StreamPump}) and the bounded buffers ({@code HeadBuffer}, {@code TailBuffer}, {@code
 * LineReader}).
 *
 * <p>Depends on cfn-core's public API, Jackson (JSON lines), SLF4J, the JDK's process API and
 * cfn-ai's internal {@code dev.cfn.ai.internal.os} (Linux calls through the FFM API: the JVM made
 * non-dumpable and a child subreaper, process groups signalled, orphans reaped); of cfn-ai's other
 * packages only {@code dev.cfn.ai.hook} (hook commands) depends on it, and it depends on no other.
 */
package dev.cfn.ai.process;
