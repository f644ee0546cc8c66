/**
 * Benchmarks of cfn: the end-to-end bus scenarios ({@code cfn bench bus}) run through the real
 * runtime beside the same scenarios on Apache Pekko, LLM tasks through cfn-ai beside LangChain4j
 * ({@code cfn bench agents}: {@code AgentsBench} coordinates, {@code AgentsWorker} runs one system
 * per JVM, {@code AgentsDriver} drives it, {@code CfnContenders} and {@code LangChain4jContenders}
 * are the systems), and the entry point of the benchmark jar. Benchmark peers (Pekko, LangChain4j)
 * are dependencies of this module only, never of the product; the cfn command runs this jar in a
 * JVM of its own. {@code ReliableTasksBench} is a small driver of its own (a {@code main}, not a
 * command): best-effort against RELIABLE {@code LlmAgent} tasks with the durable call log, side by
 * side, against the testkit's model server.
 */
package dev.cfn.bench;
