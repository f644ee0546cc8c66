/**
 * Child processes: {@link dev.cfn.testkit.process.ChildJvm} starts a class's {@code main} in a JVM
 * of its own on the current class path, reads what it prints, waits for a line, signals and
 * SIGKILLs it. It is cfn's one child-JVM class: the crash tests' children, and the nodes and
 * workers of {@code cfn certify}, {@code cfn chaos}, {@code cfn chaos cluster} and {@code cfn dr
 * drill} (cfn-cli ships cfn-testkit); {@link dev.cfn.testkit.process.LinuxProcess} reads a
 * process's state, parent and session from {@code /proc} and waits for processes to be gone. Linux
 * only ({@code /proc}); for tests such as "a command the cfn process started does not outlive it".
 */
package dev.cfn.testkit.process;
