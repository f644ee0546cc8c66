package dev.cfn.ai.tool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code file_read}, {@code file_write} and {@code file_list} inside a {@link Workspace}, with size
 * limits: a read returns at most {@code maxReadBytes} (and says where to continue), a write refuses
 * content over {@code maxWriteBytes}. Text is UTF-8; bytes that are not are shown as the
 * replacement character.
 */
final class FileTools {
  static final String READ = "file_read";
  static final String WRITE = "file_write";
  static final String LIST = "file_list";
  static final int MAX_LIST_ENTRIES = 1000;

  private FileTools() {}

  static List<Tool> create(Workspace workspace, int maxReadBytes, int maxWriteBytes) {
    return List.of(read(workspace, maxReadBytes), write(workspace, maxWriteBytes), list(workspace));
  }

  private static Tool read(Workspace workspace, int maxReadBytes) {
    return Tool.readOnly(
        READ,
        "Reads a text file of the workspace, by a path relative to it. Returns at most "
            + maxReadBytes
            + " bytes; a longer file is read in parts with offset and length.",
        BuiltinSchemas.parse(
            """
            {"type": "object", "properties": {
              "path": {"type": "string", "minLength": 1,
                "description": "The file, relative to the workspace, such as 'src/main.py'."},
              "offset": {"type": "integer", "minimum": 0,
                "description": "The first byte to read; 0 when omitted."},
              "length": {"type": "integer", "minimum": 1, "maximum": %d,
                "description": "How many bytes to read at most; the limit when omitted."}
            },
            "required": ["path"], "additionalProperties": false}
            """
                .formatted(maxReadBytes)),
        (args, ctx) -> {
          String given = args.get("path").asText();
          Path file;
          try {
            file = workspace.resolve(given);
          } catch (Workspace.PathRefusedException e) {
            return refused(READ, given, e);
          }
          if (!Files.isRegularFile(file)) {
            return ToolResult.error(
                READ
                    + ": '"
                    + given
                    + "' is not a file"
                    + (Files.exists(file) ? "" : " (it does not exist)"));
          }
          long offset = args.hasNonNull("offset") ? args.get("offset").asLong() : 0;
          int length = args.hasNonNull("length") ? args.get("length").asInt() : maxReadBytes;
          try (SeekableByteChannel channel =
              Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long size = channel.size();
            if (offset > size) {
              return ToolResult.error(
                  READ
                      + ": offset "
                      + offset
                      + " is past the end of '"
                      + given
                      + "' ("
                      + size
                      + " bytes)");
            }
            channel.position(offset);
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(length, size - offset));
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
              // read until full or end of file
            }
            String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
            long end = offset + buffer.position();
            if (end < size) {
              text +=
                  "\n[read bytes "
                      + offset
                      + " to "
                      + end
                      + " of "
                      + size
                      + "; call "
                      + READ
                      + " with offset "
                      + end
                      + " for more]";
            }
            return ToolResult.text(text);
          }
        });
  }

  private static Tool write(Workspace workspace, int maxWriteBytes) {
    return Tool.of(
        WRITE,
        "Writes a text file of the workspace, by a path relative to it, creating it and its"
            + " directories when missing and replacing its content (or appending). At most "
            + maxWriteBytes
            + " bytes per call.",
        BuiltinSchemas.parse(
            """
            {"type": "object", "properties": {
              "path": {"type": "string", "minLength": 1,
                "description": "The file, relative to the workspace, such as 'notes/plan.md'."},
              "content": {"type": "string", "description": "The text to write."},
              "append": {"type": "boolean",
                "description": "Add to the end of the file instead of replacing it; false when omitted."}
            },
            "required": ["path", "content"], "additionalProperties": false}
            """),
        (args, ctx) -> {
          String given = args.get("path").asText();
          byte[] bytes = args.get("content").asText().getBytes(StandardCharsets.UTF_8);
          if (bytes.length > maxWriteBytes) {
            return ToolResult.error(
                WRITE
                    + ": the content is "
                    + bytes.length
                    + " bytes, more than the "
                    + maxWriteBytes
                    + " one call may write; write it in parts with append");
          }
          Path file;
          try {
            file = workspace.resolve(given);
          } catch (Workspace.PathRefusedException e) {
            return refused(WRITE, given, e);
          }
          if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            return ToolResult.error(WRITE + ": '" + given + "' is a directory");
          }
          if (file.equals(workspace.root())) {
            return ToolResult.error(WRITE + ": give a file path, not the workspace itself");
          }
          Files.createDirectories(file.getParent());
          boolean append = args.hasNonNull("append") && args.get("append").asBoolean();
          Set<OpenOption> options = new HashSet<>();
          options.add(StandardOpenOption.WRITE);
          options.add(StandardOpenOption.CREATE);
          options.add(append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
          options.add(LinkOption.NOFOLLOW_LINKS);
          try (SeekableByteChannel channel = Files.newByteChannel(file, options)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
              channel.write(buffer);
            }
          }
          return ToolResult.text(
              (append ? "appended " : "wrote ")
                  + bytes.length
                  + " bytes to "
                  + workspace.display(file));
        });
  }

  private static Tool list(Workspace workspace) {
    return Tool.readOnly(
        LIST,
        "Lists a directory of the workspace: sub-directories end with '/', files show their size.",
        BuiltinSchemas.parse(
            """
            {"type": "object", "properties": {
              "path": {"type": "string",
                "description": "The directory, relative to the workspace; the workspace itself when omitted."}
            },
            "additionalProperties": false}
            """),
        (args, ctx) -> {
          String given = args.hasNonNull("path") ? args.get("path").asText() : ".";
          if (given.isEmpty()) {
            given = ".";
          }
          Path dir;
          try {
            dir = workspace.resolve(given);
          } catch (Workspace.PathRefusedException e) {
            return refused(LIST, given, e);
          }
          if (!Files.isDirectory(dir)) {
            return ToolResult.error(LIST + ": '" + given + "' is not a directory");
          }
          List<String> lines = new ArrayList<>();
          int more = 0;
          try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
              if (lines.size() == MAX_LIST_ENTRIES) {
                more++;
                continue;
              }
              lines.add(describe(entry));
            }
          }
          lines.sort(null);
          if (more > 0) {
            lines.add("[" + more + " more entries not shown]");
          }
          return ToolResult.text(lines.isEmpty() ? "(empty directory)" : String.join("\n", lines));
        });
  }

  private static String describe(Path entry) throws IOException {
    String name = entry.getFileName().toString();
    if (Files.isSymbolicLink(entry)) {
      return name + " (symbolic link)";
    }
    if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
      return name + "/";
    }
    return name + " (" + Files.size(entry) + " bytes)";
  }

  private static ToolResult refused(String tool, String given, Workspace.PathRefusedException e) {
    return ToolResult.error(tool + " refused the path '" + given + "': " + e.getMessage());
  }
}
