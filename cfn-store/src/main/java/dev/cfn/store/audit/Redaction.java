package dev.cfn.store.audit;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of the audit log: an audit entry can never be deleted, so a secret written into
 * one would stay readable for as long as the log is kept. Applied to every event before it is
 * encoded; what it replaces becomes {@value #MARK}.
 *
 * <ul>
 *   <li>the value of a detail whose key names a secret ({@code token}, {@code secret}, {@code
 *       password}, {@code apiKey}, {@code authorization}, {@code credential}, {@code privateKey},
 *       {@code cookie}, ...), unless the key names something derived that is safe to keep: one
 *       ending in {@code id}, {@code hash}, {@code fingerprint} or {@code prefix};
 *   <li>in any text field, the credential after {@code Bearer} or {@code Basic};
 *   <li>in any text field, a run of 32 or more base64 or base64url characters mixing upper and
 *       lower case letters: how a random token of 192 bits or more looks (a 256-bit cfn token in
 *       base64url is 43 such characters). Lower-case hex (hashes, fingerprints, ids) is kept.
 * </ul>
 */
final class Redaction {
  static final String MARK = "[redacted]";

  private static final Pattern SECRET_KEY =
      Pattern.compile(
          "token|secret|passw|passphrase|api[-_.]?key|authoriz|credential|private[-_.]?key"
              + "|cookie|session");
  private static final Pattern SAFE_KEY = Pattern.compile("(id|hash|fingerprint|prefix)$");
  private static final Pattern SCHEME =
      Pattern.compile("(?i)\\b(bearer|basic)(\\s+)[A-Za-z0-9._~+/=-]+");
  private static final Pattern RANDOM_RUN = Pattern.compile("[A-Za-z0-9+/_-]{32,}=*");

  private Redaction() {}

  /** Whether a detail under {@code key} must not be kept. */
  static boolean secretKey(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return SECRET_KEY.matcher(k).find() && !SAFE_KEY.matcher(k).find();
  }

  /** {@code text} with credentials and token-like runs replaced by {@value #MARK}. */
  static String scrub(String text) {
    String s = SCHEME.matcher(text).replaceAll("$1$2" + Matcher.quoteReplacement(MARK));
    Matcher m = RANDOM_RUN.matcher(s);
    StringBuilder out = null;
    int last = 0;
    while (m.find()) {
      String run = m.group();
      if (run.chars().anyMatch(Character::isUpperCase)
          && run.chars().anyMatch(Character::isLowerCase)) {
        if (out == null) {
          out = new StringBuilder(s.length());
        }
        out.append(s, last, m.start()).append(MARK);
        last = m.end();
      }
    }
    return out == null ? s : out.append(s, last, s.length()).toString();
  }
}
