/**
 * Alerting over the node's metrics: {@link dev.cfn.server.alerts.AlertConfig}, the rules of {@code
 * .cfn/alerts.yaml} (defaults from the seed's thresholds) and their export as a Prometheus rules
 * file; {@link dev.cfn.server.alerts.AlertEngine}, which evaluates them continuously over the
 * node's own scrape (inactive → pending → firing → resolved); {@link
 * dev.cfn.server.alerts.Webhook}, the signed, retried notification; and {@link
 * dev.cfn.server.alerts.AlertHistory}, the durable record of every transition and notification.
 *
 * <p>Package-private beside them: {@code Condition} evaluation state. May depend on {@code
 * dev.cfn.server.metrics}, Jackson and SnakeYAML Engine; not on the server's routes.
 */
package dev.cfn.server.alerts;
