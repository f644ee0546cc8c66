/**
 * Orchestration on the cfn runtime, above {@code cfn-ai}: swarms whose topology the bus enforces,
 * task assignment and coordination rounds ({@code dev.cfn.flow.swarm}), durable task graphs ({@code
 * dev.cfn.flow.graph}) and their file form ({@code dev.cfn.flow.spec}), the supervisor composition
 * ({@code dev.cfn.flow.supervisor}) and the CFN Loop ({@code dev.cfn.flow.loop}). Hooks live in
 * {@code cfn-ai}'s {@code dev.cfn.ai.hook}, beside the tool executor and {@code LlmAgent} that run
 * them. Everything here travels the runtime's one message path; nothing in this module has a bus of
 * its own.
 */
package dev.cfn.flow;
