package dev.cfn.store.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** How the writer's multi-row statements split a batch's rows ({@link Writes#rowsPerStatement}). */
class RowsPerStatementTest {

  @Test
  void smallBatchesTakeOneStatementOfExactlyTheirRows() {
    for (int rows = 1; rows <= Writes.EXACT_ROWS; rows++) {
      assertEquals(rows, Writes.rowsPerStatement(rows));
    }
  }

  @Test
  void everyRowIsWrittenOnceInStatementsOfAFewCachedShapes() {
    Set<Integer> shapes = new TreeSet<>();
    for (int rows = 1; rows <= 3 * Writes.ROWS_PER_INSERT + 7; rows++) {
      int left = rows;
      while (left > 0) {
        int n = Writes.rowsPerStatement(left);
        assertTrue(n >= 1 && n <= left && n <= Writes.ROWS_PER_INSERT, rows + " rows: " + n);
        shapes.add(n);
        left -= n;
      }
    }
    // 1..16 exactly, then the powers of two 32..256
    assertEquals(Writes.EXACT_ROWS + 4, shapes.size(), shapes.toString());
  }
}
