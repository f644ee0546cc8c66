package dev.cfn.core;

/**
 * A topic to publish on: its {@code type} (dot-separated segments such as {@code
 * swarm.alpha.status}, matched by subscription patterns) and its {@code source} (the context the
 * event belongs to). A type subscription delivers a publication to the agent {@code
 * (subscribedType, source)}, activating it if needed, as in AutoGen's runtime.
 */
public record TopicId(String type, String source) {

  /** Longest allowed topic type. */
  public static final int MAX_TYPE_LENGTH = 255;

  /** Validates both parts; throws {@link IllegalArgumentException} naming the problem and fix. */
  public TopicId {
    if (type == null || type.isEmpty()) {
      throw new IllegalArgumentException(
          "topic type is empty; give dot-separated segments such as 'tasks.created'");
    }
    if (type.length() > MAX_TYPE_LENGTH) {
      throw new IllegalArgumentException(
          "topic type is " + type.length() + " characters; the limit is " + MAX_TYPE_LENGTH);
    }
    if (!wellFormed(type)) {
      throw new IllegalArgumentException(
          "topic type '"
              + type
              + "' is badly formed: use non-empty segments of letters, digits, '_' or '-'"
              + " separated by '.' (wildcards belong in subscriptions, not in topics)");
    }
    AgentId.validateKey(source);
  }

  /**
   * True when {@code type} is non-empty segments of letters, digits, '_' or '-' separated by '.'
   * (what the regular expression {@code [A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*} accepts, without its
   * cost on every publication).
   */
  private static boolean wellFormed(String type) {
    boolean segmentEmpty = true;
    for (int i = 0; i < type.length(); i++) {
      char c = type.charAt(i);
      if (c == '.') {
        if (segmentEmpty) {
          return false;
        }
        segmentEmpty = true;
      } else if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '_'
          || c == '-') {
        segmentEmpty = false;
      } else {
        return false;
      }
    }
    return !segmentEmpty;
  }

  /** Shorthand for {@code new TopicId(type, source)}. */
  public static TopicId of(String type, String source) {
    return new TopicId(type, source);
  }

  @Override
  public String toString() {
    return type + "@" + source;
  }
}
