package dev.cfn.ai.tool;

import dev.cfn.ai.internal.os.Linux;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code file_read}, {@code file_write} and {@code file_list} inside a {@link Workspace}, with size
 * limits: a read returns at most {@code maxReadBytes} (and says where to continue), a write refuses
 * content over {@code maxWriteBytes}. Text is UTF-8; bytes that are not are shown as the
 * replacement character.
 *
 * <p>Every file is opened through the {@link Workspace} (beneath it in the kernel, never cfn's own
 * files, never a hard-linked file) and all I/O is done on that descriptor, so nothing is checked by
 * name and then used by name. A refusal is thrown as {@link ToolRefusedException}: the model reads
 * why, the audit records the call as denied with the rule, never the path. A listing leaves cfn's
 * own files out (and says how many) and escapes control characters in names, so a file name cannot
 * forge a line.
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
          long offset = args.hasNonNull("offset") ? args.get("offset").asLong() : 0;
          int length = args.hasNonNull("length") ? args.get("length").asInt() : maxReadBytes;
          try (Workspace.Opened file = workspace.openForRead(given)) {
            long size = file.stat.size();
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
            byte[] buffer = new byte[(int) Math.min(length, size - offset)];
            int got = 0;
            while (got < buffer.length) {
              int n = Linux.pread(file.fd, buffer, got, buffer.length - got, offset + got);
              if (n == 0) {
                break; // the file shrank meanwhile
              }
              got += n;
            }
            String text = new String(buffer, 0, got, StandardCharsets.UTF_8);
            long end = offset + got;
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
          } catch (Workspace.PathRefusedException e) {
            throw refused(READ, given, e);
          } catch (Workspace.FileProblemException e) {
            return ToolResult.error(READ + ": " + e.getMessage());
          }
        });
  }

  private static Tool write(Workspace workspace, int maxWriteBytes) {
    return new FileEditingTool(
        (FunctionTool) writeFunction(workspace, maxWriteBytes), workspace.root());
  }

  private static Tool writeFunction(Workspace workspace, int maxWriteBytes) {
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
          boolean append = args.hasNonNull("append") && args.get("append").asBoolean();
          try (Workspace.Opened file = workspace.openForWrite(given)) {
            if (append) {
              Linux.pwriteFully(file.fd, bytes, 0, bytes.length, Linux.fstat(file.fd).size());
            } else {
              Linux.ftruncate(file.fd, 0);
              Linux.pwriteFully(file.fd, bytes, 0, bytes.length, 0);
            }
          } catch (Workspace.PathRefusedException e) {
            throw refused(WRITE, given, e);
          } catch (Workspace.FileProblemException e) {
            return ToolResult.error(WRITE + ": " + e.getMessage());
          }
          return ToolResult.text(
              (append ? "appended " : "wrote ")
                  + bytes.length
                  + " bytes to "
                  + Workspace.display(Workspace.components(given)));
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
          List<String> lines = new ArrayList<>();
          int more = 0;
          int hidden = 0;
          try (Workspace.Opened dir = workspace.openDirectory(given)) {
            for (Linux.DirEntry entry : Linux.readDirectory(dir.fd)) {
              if (Workspace.isProtectedName(entry.name())) {
                hidden++;
                continue;
              }
              if (lines.size() == MAX_LIST_ENTRIES) {
                more++;
                continue;
              }
              String line = describe(dir.fd, entry);
              if (line != null) {
                lines.add(line);
              }
            }
          } catch (Workspace.PathRefusedException e) {
            throw refused(LIST, given, e);
          } catch (Workspace.FileProblemException e) {
            return ToolResult.error(LIST + ": " + e.getMessage());
          }
          lines.sort(null);
          if (more > 0) {
            lines.add("[" + more + " more entries not shown]");
          }
          if (hidden > 0) {
            lines.add("[" + hidden + " of cfn's own files not shown]");
          }
          return ToolResult.text(lines.isEmpty() ? "(empty directory)" : String.join("\n", lines));
        });
  }

  /** One listing line for {@code entry}, or null when it vanished meanwhile. */
  private static String describe(int dirFd, Linux.DirEntry entry) throws IOException {
    String name = ControlChars.escape(entry.name());
    Linux.Stat stat;
    try {
      stat = Linux.statx(dirFd, entry.rawName(), Linux.AT_SYMLINK_NOFOLLOW);
    } catch (Linux.ErrnoException e) {
      if (e.errno() == Linux.ENOENT) {
        return null;
      }
      throw e;
    }
    if (stat.isSymbolicLink()) {
      return name + " (symbolic link)";
    }
    if (stat.isDirectory()) {
      return name + "/";
    }
    return name + " (" + stat.size() + " bytes)";
  }

  /** The refusal: the model reads why; the audit records the rule, never the path. */
  private static ToolRefusedException refused(
      String tool, String given, Workspace.PathRefusedException e) {
    return new ToolRefusedException(
        tool + " refused the path '" + given + "': " + e.getMessage(), "path refused: " + e.kind());
  }
}
