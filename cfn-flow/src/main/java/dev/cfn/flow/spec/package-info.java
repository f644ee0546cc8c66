/**
 * Task graphs written as files (YAML or JSON), for {@code cfn task submit} and the server to come.
 *
 * <p>Public: {@link dev.cfn.flow.spec.GraphFile} (reads and checks a file, then binds it to agent
 * definitions as a {@link dev.cfn.flow.graph.TaskGraph}), its {@link
 * dev.cfn.flow.spec.GraphFile.SwarmSpec} (the file's {@code swarm:}: the swarm its tasks run
 * through, and the strategy as an {@code Assignment}) and {@link
 * dev.cfn.flow.spec.GraphFileException} (every problem found, each with its file, line and fix).
 * Package-private: {@code InputTemplate} (a task's input with {@code {{state.KEY}}} and {@code
 * {{result.TASK}}} placeholders) and {@code Durations}.
 *
 * <p>Depends on {@code dev.cfn.flow.graph}, {@code dev.cfn.flow.swarm} ({@code Assignment}, {@code
 * Topology}), {@code cfn-ai}'s agent definitions, and snakeyaml-engine (YAML 1.2, of which JSON is
 * a part, so one reader takes both).
 */
package dev.cfn.flow.spec;
