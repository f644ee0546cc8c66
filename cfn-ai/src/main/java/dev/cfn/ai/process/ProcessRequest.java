package dev.cfn.ai.process;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A message for a {@link ProcessAgent} that carries more than text. A plain {@code String} payload
 * is the same as {@code ProcessRequest.of(text)}.
 *
 * <p>In per-message mode {@code text} goes to stdin (when the spec's stdin is {@link
 * ProcessSpec.Stdin#message()}) and replaces {@link ProcessSpec#INPUT_PLACEHOLDER} in the
 * arguments; {@code args} are appended to the command; {@code env} overrides variables, but only
 * names on the spec's allow-list ({@link ProcessSpec#overridableEnv()}): anything else is rejected,
 * so a message can never widen what the child sees. In long-lived mode {@code text} is the line
 * written to the process, and {@code args} and {@code env} must be empty (the process already
 * runs).
 *
 * @param text the input text
 * @param args arguments appended to the command (per-message mode only)
 * @param env environment overrides, names from the allow-list only (per-message mode only)
 */
public record ProcessRequest(String text, List<String> args, Map<String, String> env) {

  /** Copies the lists; all parts are required (use empty ones). */
  public ProcessRequest {
    Objects.requireNonNull(text, "text");
    args = List.copyOf(Objects.requireNonNull(args, "args"));
    env = Map.copyOf(Objects.requireNonNull(env, "env"));
  }

  /** A request with only text. */
  public static ProcessRequest of(String text) {
    return new ProcessRequest(text, List.of(), Map.of());
  }

  /** This request with {@code args} appended to the command. */
  public ProcessRequest withArgs(String... args) {
    return new ProcessRequest(text, List.of(args), env);
  }

  /** This request with {@code name} set to {@code value} (the name must be allow-listed). */
  public ProcessRequest withEnv(String name, String value) {
    Map<String, String> copy = new java.util.HashMap<>(env);
    copy.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
    return new ProcessRequest(text, args, copy);
  }

  /** Shows sizes and variable names only: the text, arguments and values may be private. */
  @Override
  public String toString() {
    return "ProcessRequest[text="
        + text.length()
        + " chars, args="
        + args.size()
        + ", env="
        + new TreeSet<>(env.keySet())
        + "]";
  }
}
