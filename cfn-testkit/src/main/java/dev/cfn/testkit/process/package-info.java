/**
 * A child JVM for tests of what happens when a cfn process dies: {@link
 * dev.cfn.testkit.process.ChildJvm} starts a class's {@code main} in a JVM of its own on the test's
 * class path, reads what it prints and SIGKILLs it; {@link dev.cfn.testkit.process.LinuxProcess}
 * reads a process's state, parent and session from {@code /proc} and waits for processes to be
 * gone. Linux only ({@code /proc}); for tests such as "a command the cfn process started does not
 * outlive it".
 */
package dev.cfn.testkit.process;
