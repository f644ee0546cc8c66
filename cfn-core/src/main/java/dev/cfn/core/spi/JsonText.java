package dev.cfn.core.spi;

/**
 * Checks that a string is one JSON value (RFC 8259), without building it: {@link
 * dev.cfn.core.Effects#putJson} stores JSON as validated text, since the kernel has no JSON
 * library. Strict: no comments, no trailing commas, no leading zeros, no unescaped control
 * characters, at most {@link #MAX_DEPTH} nested arrays and objects, whitespace only around the
 * value.
 */
final class JsonText {
  /** The deepest nesting accepted, so a hostile value cannot exhaust the stack. */
  static final int MAX_DEPTH = 256;

  private final String text;
  private int pos;

  private JsonText(String text) {
    this.text = text;
  }

  /** Throws {@link IllegalArgumentException} saying where and what, unless {@code text} is JSON. */
  static void check(String text) {
    JsonText p = new JsonText(text);
    p.space();
    p.value(0);
    p.space();
    if (p.pos != text.length()) {
      throw p.error("unexpected text after the JSON value");
    }
  }

  private void value(int depth) {
    if (pos >= text.length()) {
      throw error("a value was expected, the text ended");
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{' -> object(depth + 1);
      case '[' -> array(depth + 1);
      case '"' -> string();
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          number();
        } else {
          throw error("a value was expected, found '" + c + "'");
        }
      }
    }
  }

  private void object(int depth) {
    nest(depth);
    pos++; // {
    space();
    if (peek() == '}') {
      pos++;
      return;
    }
    while (true) {
      if (peek() != '"') {
        throw error("a key in double quotes was expected");
      }
      string();
      space();
      expect(':');
      space();
      value(depth);
      space();
      char c = peek();
      pos++;
      if (c == '}') {
        return;
      }
      if (c != ',') {
        pos--;
        throw error("',' or '}' was expected");
      }
      space();
    }
  }

  private void array(int depth) {
    nest(depth);
    pos++; // [
    space();
    if (peek() == ']') {
      pos++;
      return;
    }
    while (true) {
      space();
      value(depth);
      space();
      char c = peek();
      pos++;
      if (c == ']') {
        return;
      }
      if (c != ',') {
        pos--;
        throw error("',' or ']' was expected");
      }
    }
  }

  private void nest(int depth) {
    if (depth > MAX_DEPTH) {
      throw error("nested deeper than " + MAX_DEPTH + " arrays and objects");
    }
  }

  private void string() {
    pos++; // "
    while (pos < text.length()) {
      char c = text.charAt(pos++);
      if (c == '"') {
        return;
      }
      if (c < 0x20) {
        pos--;
        throw error("a control character must be escaped inside a string");
      }
      if (c == '\\') {
        char e = peek();
        pos++;
        if (e == 'u') {
          for (int i = 0; i < 4; i++) {
            if (Character.digit(peek(), 16) < 0) {
              throw error("\\u needs four hexadecimal digits");
            }
            pos++;
          }
        } else if ("\"\\/bfnrt".indexOf(e) < 0 || e == 0) {
          pos--;
          throw error("unknown escape in a string");
        }
      }
    }
    throw error("a string is not closed");
  }

  private void number() {
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      digits();
    } else {
      throw error("a digit was expected");
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) {
        throw error("a digit was expected after '.'");
      }
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw error("a digit was expected in the exponent");
      }
      digits();
    }
  }

  private void digits() {
    while (isDigit(peek())) {
      pos++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private void literal(String word) {
    if (!text.startsWith(word, pos)) {
      throw error("'" + word + "' was expected");
    }
    pos += word.length();
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("'" + c + "' was expected");
    }
    pos++;
  }

  /** The next character, or 0 at the end. */
  private char peek() {
    return pos < text.length() ? text.charAt(pos) : 0;
  }

  private void space() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException(
        "not JSON at character " + (pos + 1) + ": " + what + " (fix: pass one valid JSON value)");
  }
}
