package dev.cfn.store.journal;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A damaged record that recovery set aside instead of delivering: it failed its checksum, so none
 * of its values can be trusted, and they are shown as found.
 *
 * @param id the message id it was stored under
 * @param source the table it was taken from ({@code messages})
 * @param problem what was wrong, as the check reported it (table, key, stored and computed
 *     checksums)
 * @param quarantinedAt when recovery set it aside
 * @param columns every stored column as text, in the table's order: byte values as UTF-8 when they
 *     are valid UTF-8, else {@code base64:...}; {@code null} for SQL NULL
 */
public record QuarantinedRecord(
    long id, String source, String problem, Instant quarantinedAt, Map<String, String> columns) {

  /** Validates the parts and copies the columns, keeping their order. */
  public QuarantinedRecord {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(problem, "problem");
    Objects.requireNonNull(quarantinedAt, "quarantinedAt");
    columns = Collections.unmodifiableMap(new LinkedHashMap<>(columns));
  }
}
