/**
 * The cfn kernel: agents, the in-process message bus, mailboxes, dispatchers, supervision and
 * metrics.
 *
 * <p>Public: {@link dev.cfn.core.AgentRuntime} (and its builder), {@link dev.cfn.core.MessageBus}
 * (the messaging verbs shared by the runtime, {@link dev.cfn.core.AgentContext} and {@link
 * dev.cfn.core.AgentRef}), {@link dev.cfn.core.Agent}, {@link dev.cfn.core.AgentContext}, {@link
 * dev.cfn.core.AgentType}, the value types ({@link dev.cfn.core.AgentId}, {@link
 * dev.cfn.core.TopicId}, {@link dev.cfn.core.Envelope}) and the policies. Package-private, beside
 * them: the mailbox ({@code Mailbox}), the carrier threads ({@code Carrier}), the per-agent cell
 * ({@code AgentCell}), the topic router and the meters. Users cannot reach the machinery;
 * maintainers find it here.
 *
 * <p>Depends only on JCTools, HdrHistogram, Micrometer core and SLF4J. Nothing in cfn-core depends
 * on another cfn module.
 */
package dev.cfn.core;
