package dev.cfn.ai.model;

/**
 * The model configuration is invalid. The message names the source (a file, or the environment),
 * the key, what is wrong and how to fix it, e.g. {@code .cfn/providers.yaml: routes[1].provider:
 * unknown provider 'zai'; declare it under providers: or use one of [anthropic, openai]}.
 */
public final class ModelConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final String key;

  /**
   * Creates an exception.
   *
   * @param source the file or {@code "environment"}
   * @param key the key at fault, as a path ({@code providers.openai.base-url})
   * @param problem what is wrong and what to do; must not contain a secret
   */
  public ModelConfigException(String source, String key, String problem) {
    super(source + ": " + key + ": " + problem);
    this.source = source;
    this.key = key;
  }

  /**
   * Returns where the bad setting came from.
   *
   * @return the file, or {@code "environment"}
   */
  public String source() {
    return source;
  }

  /**
   * Returns the key at fault.
   *
   * @return the key's path
   */
  public String key() {
    return key;
  }
}
