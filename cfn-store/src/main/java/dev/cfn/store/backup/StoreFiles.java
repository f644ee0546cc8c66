package dev.cfn.store.backup;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a node keeps its three store files.
 *
 * @param journal the journal ({@code .cfn/cfn.db})
 * @param memory the agents' memory ({@code .cfn/memory.db})
 * @param calls the AI call log ({@code .cfn/calls.db})
 */
public record StoreFiles(Path journal, Path memory, Path calls) {
  /** Checks the parts. */
  public StoreFiles {
    Objects.requireNonNull(journal, "journal");
    Objects.requireNonNull(memory, "memory");
    Objects.requireNonNull(calls, "calls");
  }

  /** The files of the node whose state is in {@code cfnDir} (a {@code .cfn} folder). */
  public static StoreFiles in(Path cfnDir) {
    return new StoreFiles(
        cfnDir.resolve("cfn.db"), cfnDir.resolve("memory.db"), cfnDir.resolve("calls.db"));
  }
}
