package dev.cfn.ai.tool;

import dev.cfn.core.spi.MemoryStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The tools cfn ships, chosen per runtime: memory ({@code memory_get}, {@code memory_put}, {@code
 * memory_search}, {@code memory_delete}) on a {@link MemoryStore}, acting as the calling agent so
 * that access levels apply; messaging ({@code send_message} to an agent {@code type/key}, {@code
 * publish} on a topic) through the calling agent's context; files ({@code file_read}, {@code
 * file_write}, {@code file_list}) inside one workspace directory, which no path may leave (absolute
 * paths and {@code ..} are refused, and on Linux the kernel opens every path beneath the workspace
 * following no symbolic link), with size limits, and never on cfn's own files ({@code .cfn}, {@code
 * .claude}, {@code .git}, store files) whatever the workspace. The file tools need Linux 5.6 or
 * later on x86_64 or aarch64; elsewhere every call is refused with an error saying so.
 *
 * <pre>{@code
 * BuiltinTools.builder()
 *     .memory(memoryStore)
 *     .messaging()
 *     .workspace(Path.of("work"))
 *     .registerIn(registry);
 * }</pre>
 *
 * Registering a tool offers it to no agent: each agent's {@link ToolPermissions} still decide.
 */
public final class BuiltinTools {
  /** Names of the memory tools. */
  public static final List<String> MEMORY =
      List.of(MemoryTools.GET, MemoryTools.PUT, MemoryTools.SEARCH, MemoryTools.DELETE);

  /** Names of the messaging tools. */
  public static final List<String> MESSAGING = List.of(MessagingTools.SEND, MessagingTools.PUBLISH);

  /** Names of the file tools. */
  public static final List<String> FILES = List.of(FileTools.READ, FileTools.WRITE, FileTools.LIST);

  /** The most a {@code file_read} returns unless configured: 256 KiB. */
  public static final int DEFAULT_MAX_READ_BYTES = 256 * 1024;

  /** The most a {@code file_write} writes unless configured: 1 MiB. */
  public static final int DEFAULT_MAX_WRITE_BYTES = 1024 * 1024;

  private BuiltinTools() {}

  /** A builder with no tool chosen yet. */
  public static Builder builder() {
    return new Builder();
  }

  /** Chooses the built-in tools and builds them. */
  public static final class Builder {
    private MemoryStore memory;
    private boolean messaging;
    private Path workspace;
    private int maxReadBytes = DEFAULT_MAX_READ_BYTES;
    private int maxWriteBytes = DEFAULT_MAX_WRITE_BYTES;

    private Builder() {}

    /** Adds the memory tools on {@code store} (which the caller keeps open while they are used). */
    public Builder memory(MemoryStore store) {
      this.memory = Objects.requireNonNull(store, "store");
      return this;
    }

    /** Adds {@code send_message} and {@code publish}. */
    public Builder messaging() {
      this.messaging = true;
      return this;
    }

    /**
     * Adds the file tools, working inside {@code directory}, which must exist and must not lie
     * inside {@code .cfn}, {@code .claude} or {@code .git}. Give them a folder of their own rather
     * than a project folder.
     */
    public Builder workspace(Path directory) {
      this.workspace = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /** The most one {@code file_read} returns, in bytes. */
    public Builder maxReadBytes(int bytes) {
      this.maxReadBytes = positive(bytes, "maxReadBytes");
      return this;
    }

    /** The most one {@code file_write} writes, in bytes. */
    public Builder maxWriteBytes(int bytes) {
      this.maxWriteBytes = positive(bytes, "maxWriteBytes");
      return this;
    }

    /**
     * The chosen tools.
     *
     * @throws IllegalArgumentException when the workspace is not a directory or lies inside one of
     *     cfn's own directories
     */
    public List<Tool> build() {
      List<Tool> tools = new ArrayList<>();
      if (memory != null) {
        tools.addAll(MemoryTools.create(memory));
      }
      if (messaging) {
        tools.addAll(MessagingTools.create());
      }
      if (workspace != null) {
        tools.addAll(FileTools.create(new Workspace(workspace), maxReadBytes, maxWriteBytes));
      }
      return List.copyOf(tools);
    }

    /**
     * Builds the chosen tools and registers them all in {@code registry} (or none, on an error).
     *
     * @return the tools registered
     */
    public List<Tool> registerIn(ToolRegistry registry) {
      List<Tool> tools = build();
      registry.registerAll(tools);
      return tools;
    }

    private static int positive(int value, String name) {
      if (value < 1) {
        throw new IllegalArgumentException(name + " must be 1 or more, got " + value);
      }
      return value;
    }
  }
}
