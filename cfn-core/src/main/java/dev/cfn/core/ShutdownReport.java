package dev.cfn.core;

import java.time.Duration;

/**
 * What a shutdown did.
 *
 * @param drained true when every accepted message was handled before the deadline
 * @param deadLettered messages still queued at the deadline, moved to the dead-letter log
 * @param took how long the shutdown took
 */
public record ShutdownReport(boolean drained, long deadLettered, Duration took) {}
