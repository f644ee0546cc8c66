/**
 * Internal to cfn-ai, not API: how cfn-ai makes its Jackson mappers ({@link
 * dev.cfn.ai.internal.json.JsonMappers}), so that every one of them recycles its buffers in a way
 * that suits virtual threads.
 *
 * <p>Public, for cfn-ai's own packages only ({@code dev.cfn.ai}, {@code dev.cfn.ai.model}, {@code
 * dev.cfn.ai.tool}, {@code dev.cfn.ai.process}). Depends on jackson-core and jackson-databind; no
 * cfn package.
 */
package dev.cfn.ai.internal.json;
