package dev.cfn.store.crypto;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The records of one kind of store file whose sensitive field is still plain (written before a
 * keyring existed), and how to seal them where they are. Each store package gives its own ({@code
 * JournalFiles.plainRecords()}, {@code SqliteMemoryStore.plainRecords()}, {@code
 * SqliteCallLogStore.plainRecords()}); {@code cfn keys seal-existing} ({@code
 * dev.cfn.store.seal.SealExisting}) runs them on a private copy of the file, never on a file a
 * store has open.
 *
 * <p>Sealing a field changes the row's checksum, so {@link #seal} rewrites the field and the
 * checksum together, bound to the same associated data the store itself uses, so the store reads
 * the row back as if it had sealed it. A row whose checksum does not verify is not touched: {@link
 * #seal} throws, naming it, and the caller keeps the file as it was.
 */
public interface PlainRecords {
  /** The store name whose data keys seal these records ({@code journal}, {@code memory}, ...). */
  String store();

  /** How many records hold a plain sensitive field, in one read on {@code connection}. */
  long count(Connection connection) throws SQLException;

  /**
   * Seals every plain record on {@code connection} (in the caller's transaction) with {@code
   * atRest}, which must be sealing; returns how many were sealed.
   *
   * @throws KeyringException when a record fails its checksum (the message names it; nothing should
   *     be kept of the transaction)
   */
  long seal(Connection connection, AtRest atRest) throws SQLException;

  /**
   * Opens every sealed record on {@code connection} with {@code atRest} and verifies every row's
   * checksum; returns how many sealed records opened.
   *
   * @throws KeyringException when one does not open or a checksum fails, naming it
   */
  long verify(Connection connection, AtRest atRest) throws SQLException;
}
