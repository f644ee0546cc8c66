package dev.cfn.server.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link AuditTrail} that writes each event as one line to the SLF4J logger {@code cfn.audit}:
 * failures and denials at WARN, privileged actions at INFO. Fields are quoted so that a value
 * holding spaces or an injected newline cannot forge a second line.
 */
public final class LoggingAuditTrail implements AuditTrail {
  private static final Logger log = LoggerFactory.getLogger("cfn.audit");

  @Override
  public void record(AuditEvent e) {
    String line =
        "audit kind="
            + e.kind()
            + " outcome="
            + e.outcome()
            + " actor="
            + quote(e.actor())
            + " action="
            + quote(e.action())
            + " target="
            + quote(e.target())
            + " detail="
            + quote(e.detail());
    if (e.kind() == AuditEvent.Kind.PRIVILEGED_ACTION
        && e.outcome() == AuditEvent.Outcome.SUCCESS) {
      log.info(line);
    } else {
      log.warn(line);
    }
  }

  /** {@code s} in double quotes, with quotes, backslashes and control characters escaped. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f) {
        b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
