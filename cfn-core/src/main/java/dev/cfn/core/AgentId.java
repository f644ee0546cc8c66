package dev.cfn.core;

/**
 * The address of one agent: its {@code type} (which factory creates it) and its {@code key} (which
 * instance of that type). Two agents with the same type and key are the same agent.
 *
 * <p>A type is 1 to 64 characters: a letter, then letters, digits, {@code _}, {@code -} or {@code
 * .}. A key is 1 to 255 visible ASCII characters (no spaces or control characters). The string form
 * is {@code type/key}; {@link #parse(String)} reads it back.
 */
public record AgentId(String type, String key) {

  /** Longest allowed type name. */
  public static final int MAX_TYPE_LENGTH = 64;

  /** Longest allowed key. */
  public static final int MAX_KEY_LENGTH = 255;

  /** Validates both parts; throws {@link IllegalArgumentException} naming the problem and fix. */
  public AgentId {
    validateType(type);
    validateKey(key);
  }

  /** Shorthand for {@code new AgentId(type, key)}. */
  public static AgentId of(String type, String key) {
    return new AgentId(type, key);
  }

  /** Reads the {@code type/key} form produced by {@link #toString()}. */
  public static AgentId parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("agent id is null; expected 'type/key', e.g. 'coder/1'");
    }
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException(
          "agent id '" + text + "' has no '/'; expected 'type/key', e.g. 'coder/1'");
    }
    return new AgentId(text.substring(0, slash), text.substring(slash + 1));
  }

  static void validateType(String type) {
    if (type == null || type.isEmpty()) {
      throw new IllegalArgumentException(
          "agent type is empty; give a name such as 'coder' (letters, digits, '_', '-', '.')");
    }
    if (type.length() > MAX_TYPE_LENGTH) {
      throw new IllegalArgumentException(
          "agent type '"
              + type.substring(0, 16)
              + "...' is "
              + type.length()
              + " characters; the limit is "
              + MAX_TYPE_LENGTH);
    }
    if (!wellFormedType(type)) {
      throw new IllegalArgumentException(
          "agent type '"
              + type
              + "' is badly formed: it must start with a letter and contain only letters,"
              + " digits, '_', '-' or '.'");
    }
  }

  /**
   * True when {@code type} starts with a letter and holds only letters, digits, '_', '-' or '.'
   * (the regular expression {@code [A-Za-z][A-Za-z0-9_.-]*}, without its cost on every id).
   */
  private static boolean wellFormedType(String type) {
    for (int i = 0; i < type.length(); i++) {
      char c = type.charAt(i);
      boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!letter && (i == 0 || !((c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))) {
        return false;
      }
    }
    return true;
  }

  static void validateKey(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException(
          "agent key is empty; give the instance a key such as 'default' or '42'");
    }
    if (key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          "agent key is " + key.length() + " characters; the limit is " + MAX_KEY_LENGTH);
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < 0x21 || c > 0x7E) {
        throw new IllegalArgumentException(
            "agent key '"
                + key
                + "' has a character at index "
                + i
                + " that is not visible ASCII (no spaces, control or non-ASCII characters)");
      }
    }
  }

  @Override
  public String toString() {
    return type + "/" + key;
  }
}
