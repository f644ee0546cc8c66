/**
 * Fault tests of distributed mode across processes: a cfn node paused past its lease (SIGSTOP), cut
 * off by a network partition ({@code ip netns}), and the child JVM and network plumbing they need.
 */
package dev.cfn.cluster.fault;
