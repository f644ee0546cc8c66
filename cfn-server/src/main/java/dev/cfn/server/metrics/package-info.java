/**
 * What a node measures and reports: {@link dev.cfn.server.metrics.NodeMetrics}, the Prometheus
 * registry behind {@code GET /metrics} (the runtime's meters, the seed's eight under the names of
 * {@code docs/metrics.md}, the journal, the providers, the JVM), {@link
 * dev.cfn.server.metrics.Samples}, a scrape read back as numbers (what the alert rules evaluate),
 * and {@link dev.cfn.server.metrics.Availability}, the node's own record of its up and down time.
 *
 * <p>May depend on {@code cfn-core}, {@code cfn-store}, Micrometer and the Prometheus client; not
 * on the server's routes ({@code dev.cfn.server}), which depend on it.
 */
package dev.cfn.server.metrics;
