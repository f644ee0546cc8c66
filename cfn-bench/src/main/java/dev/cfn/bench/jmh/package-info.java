/**
 * JMH microbenchmarks through cfn's public API: the dispatch hot path, and a swarm's coordination
 * round of 10,000 members ({@code RoundBenchmark}). The mailbox benchmark and the latency sample's
 * ({@code LatencySampleBenchmark}) sit in {@code dev.cfn.core} of this module because the mailbox
 * and the sampler are package-private. Run them with {@code ./cfn bench jmh}.
 */
package dev.cfn.bench.jmh;
