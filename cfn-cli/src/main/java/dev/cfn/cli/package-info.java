/**
 * The {@code cfn} command line (picocli). Each subcommand is a class of its own; they call the
 * public APIs of the other modules and never reach into their internals. {@code bench} runs the
 * benchmark jar in a separate JVM so that benchmark peers never enter the product's classpath.
 * Commands that only read a journal ({@code dlq list|show}, {@code store check}, {@code store
 * quarantine list|show}) open it read-only, so they work beside a running runtime; those that write
 * it ({@code dlq replay|purge}, {@code store quarantine purge}) open it as its owner and are
 * refused while a runtime holds it. {@code chaos crash}, {@code chaos graph} and {@code chaos loop}
 * start worker JVMs ({@code CrashWorker}, {@code GraphChaosWorker}, {@code LoopChaosWorker})
 * through cfn-testkit's {@link dev.cfn.testkit.process.ChildJvm} and SIGKILL them in one
 * kill-restart loop ({@code KillLoop}), with the kill options they share ({@code KillOptions}, a
 * picocli mixin).
 *
 * <p>What every command shares, so that the whole command line behaves one way: {@link
 * dev.cfn.cli.ErrorReport} turns every failure into one line {@code cfn <command>: what is wrong
 * (fix: ...)} with an {@link dev.cfn.cli.ExitCode} (commands throw {@link
 * dev.cfn.cli.CommandFailure} rather than print); {@link dev.cfn.cli.ValueConverters} reads
 * durations, paths and numbers; {@link dev.cfn.cli.PathChecks} checks files and folders before
 * anything runs; {@link dev.cfn.cli.CommandGroup} is a command that only holds subcommands; {@link
 * dev.cfn.cli.Table} prints aligned columns; {@link dev.cfn.cli.Logging} sets the log level. All of
 * it is package-private: only {@link dev.cfn.cli.Main} is public.
 */
package dev.cfn.cli;
