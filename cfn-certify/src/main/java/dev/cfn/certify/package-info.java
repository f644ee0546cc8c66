/**
 * {@code cfn certify}: the seed's production certification, each check driving a real node on the
 * real path, reporting what it measured beside the seed's claim, and able to fail.
 *
 * <p>Public: {@link dev.cfn.certify.Certification} (runs the checks), {@link
 * dev.cfn.certify.CertificationReport}, {@link dev.cfn.certify.CheckResult}, {@link
 * dev.cfn.certify.CheckId} (the ten checks, their targets, criticality and the seed's claims),
 * {@link dev.cfn.certify.Level} (the seed's level rules and the score formula), {@link
 * dev.cfn.certify.Profile}, {@link dev.cfn.certify.Targets}, {@link dev.cfn.certify.Environment},
 * {@link dev.cfn.certify.Progress} and {@link dev.cfn.certify.ReportFiles} (JSON, Markdown, HTML).
 *
 * <p>Package-private beside them: one class per check ({@code LatencyCheck}, {@code
 * ThroughputCheck}, {@code CoordinationCheck}, {@code ReliabilityCheck}, {@code UptimeCheck},
 * {@code RecoveryCheck}, {@code SecurityCheck}, {@code MonitoringCheck} with its scoring {@code
 * MonitoringCoverage}, {@code IntegrityCheck}, {@code ResilienceCheck}, and {@code
 * UnavailableCheck} for a check without a subject); the subjects the honesty tests break ({@code
 * BusLink}, {@code StoreSubject}, {@code CrashNode.Faults}, which loses commits with cfn-testkit's
 * {@link dev.cfn.testkit.journal.FaultyJournal}, {@code SecurityCheck.Subject}, {@code
 * ResilienceCheck.Clients}); the nodes: the crash node ({@code CrashNode}) and the served node
 * ({@code ServeNode}, the uptime, security, monitoring and resilience checks' node; {@code
 * ServeNode.Served} its handle, with a temporary folder of its own), each run in a JVM of its own
 * by cfn-testkit's {@link dev.cfn.testkit.process.ChildJvm} (cfn's one way to start a child JVM),
 * the crash nodes' life in one check ({@code CrashRun}: start, SIGKILL, restart, finish), what the
 * served nodes share ({@code ServedNode}: the sink type, the tokens), the log of what a check's
 * in-process buses and stores print ({@code NodeLog}) and the API client the checks use ({@code
 * ApiClient}); the journal audit ({@code JournalAudit}); the report renderers ({@code
 * MarkdownReport}, {@code HtmlReport}).
 *
 * <p>May depend on cfn-core, cfn-store (the stores it certifies, the audit log, the keyring),
 * cfn-flow (swarms), cfn-ai (LLM agents and the model client), cfn-server (the node it serves and
 * probes), cfn-testkit (the fault proxy and the model server of check 10, the journal that loses
 * commits of the honesty tests, the child JVM; cfn-cli ships it already), HdrHistogram and Jackson;
 * never on cfn-cli, which depends on it.
 */
package dev.cfn.certify;
