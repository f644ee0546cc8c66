package dev.cfn.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.core.spi.MemoryAccessLevel;
import dev.cfn.core.spi.MemoryAccessor;
import dev.cfn.core.spi.MemoryEntry;
import dev.cfn.core.spi.MemoryMatch;
import dev.cfn.core.spi.MemoryWrite;
import dev.cfn.store.memory.SqliteMemoryStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cfn memory get|put|search|delete|list}: the agents' memory file ({@link
 * SqliteMemoryStore}), which may be in use by a running runtime at the same time.
 *
 * <p>Without {@code --as} the command acts as the operator, who may read, change and delete every
 * entry whatever its access level (and remove a damaged one); with {@code --as AGENT --swarm S
 * --project P} it acts as that agent, and the agent's access levels apply.
 */
@Command(
    name = "memory",
    mixinStandardHelpOptions = true,
    description = {
      "Reads and writes the agents' memory (.cfn/memory.db by default).",
      "Without --as you act as the operator, who may read, change and delete every entry. With"
          + " --as AGENT [--swarm S] [--project P] you act as that agent, and the entries' access"
          + " levels apply: private (the owner only), swarm (its members), project (its members),"
          + " public (everyone reads, the owner writes)."
    },
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      "0:done",
      "1:no such entry (get, delete)",
      "2:bad input, or the file is unusable; nothing was changed",
      "3:the access level of the entry forbids it; nothing was changed"
    },
    subcommands = {
      MemoryCommand.Get.class,
      MemoryCommand.Put.class,
      MemoryCommand.Search.class,
      MemoryCommand.Delete.class,
      MemoryCommand.ListEntries.class
    })
final class MemoryCommand extends CommandGroup {

  /** The options every memory subcommand shares: the file, the namespace, who acts, the format. */
  static final class MemoryOptions {
    @Option(
        names = "--memory",
        paramLabel = "FILE",
        description = "The memory file (default: .cfn/memory.db).")
    Path db = SqliteMemoryStore.DEFAULT_FILE;

    @Option(names = "--db", paramLabel = "FILE", hidden = true, description = "Same as --memory.")
    void db(Path file) {
      db = file;
    }

    @Option(
        names = {"-n", "--namespace"},
        paramLabel = "NAMESPACE",
        description = "The namespace (default: default).")
    String namespace = "default";

    @Option(
        names = "--as",
        paramLabel = "AGENT",
        description =
            "Act as this agent id (type/key); its access levels apply. Without it: the operator,"
                + " allowed everything.")
    String as;

    @Option(
        names = "--swarm",
        paramLabel = "SWARM",
        description = "The swarm of the agent (or of the operator's new entries).")
    String swarm;

    @Option(
        names = "--project",
        paramLabel = "PROJECT",
        description = "The project of the agent (or of the operator's new entries).")
    String project;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    MemoryAccessor accessor() {
      if (as != null) {
        int slash = as.indexOf('/');
        if (slash <= 0 || slash == as.length() - 1 || as.isBlank()) {
          throw CommandFailure.usage(
              "--as '" + as + "' is not an agent id", "write it type/key, such as --as planner/1");
        }
      }
      return as == null
          ? MemoryAccessor.operator(swarm, project)
          : MemoryAccessor.agent(as, swarm, project);
    }
  }

  /**
   * Opens the file and runs the subcommand; refusals reach {@link ErrorReport}, which makes a
   * denied operation exit 3 and an unusable file 2.
   */
  abstract static class MemorySubcommand implements Callable<Integer> {
    private static final ObjectMapper JSON =
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Mixin MemoryOptions options = new MemoryOptions();
    @Mixin ServerOptions server = new ServerOptions();
    @Spec CommandSpec spec;

    /** True when the subcommand may create the file (put); the others need an existing one. */
    boolean createsFile() {
      return false;
    }

    abstract int run(SqliteMemoryStore memory, MemoryAccessor who, PrintWriter out)
        throws IOException;

    /** The same through a running node's API ({@code --server}): as the token's principal. */
    abstract int remote(NodeClient node, PrintWriter out);

    /** {@code /v1/memory/NAMESPACE/KEY}, encoded. */
    String entryPath(String key) {
      return "/v1/memory/" + NodeClient.segment(options.namespace) + "/" + NodeClient.segment(key);
    }

    @Override
    public Integer call() throws IOException {
      if (server.remote()) {
        NodeClient node = server.connect("--memory", "--db", "--as", "--swarm", "--project");
        PrintWriter out = spec.commandLine().getOut();
        try {
          return remote(node, out);
        } finally {
          out.flush();
        }
      }
      MemoryAccessor who = options.accessor(); // bad identity flags fail before the file is touched
      PrintWriter out = spec.commandLine().getOut();
      if (Files.isDirectory(options.db)) {
        throw CommandFailure.usage(
            "--memory " + options.db + " is a folder, not a memory file",
            "give the file, e.g. --memory " + options.db.resolve("memory.db"));
      }
      boolean existed = Files.exists(options.db);
      if (!existed && !createsFile()) {
        throw CommandFailure.usage(
            "no memory file at " + options.db.toAbsolutePath(),
            "`cfn memory put` creates it, or pass another file with --memory FILE");
      }
      if (!existed) {
        PathChecks.outputFile("--memory", options.db);
        Path parent = options.db.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
      }
      boolean done = false;
      try (SqliteMemoryStore memory = SqliteMemoryStore.open(options.db)) {
        int code = run(memory, who, out);
        done = true;
        return code;
      } finally {
        out.flush();
        if (!existed && !done) {
          removeCreatedFile(options.db); // a refused put leaves no empty file behind
        }
      }
    }

    /** Prints {@code value} as JSON. */
    static void printJson(PrintWriter out, Object value) {
      try {
        out.println(JSON.writeValueAsString(value));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot print JSON", e);
      }
    }

    private static void removeCreatedFile(Path db) throws IOException {
      for (String suffix : List.of("", "-wal", "-shm")) {
        Files.deleteIfExists(db.resolveSibling(db.getFileName() + suffix));
      }
    }
  }

  /** An entry as JSON: every field, times in ISO-8601, the value as a string. */
  static Map<String, Object> json(MemoryEntry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("namespace", e.namespace());
    m.put("key", e.key());
    m.put("value", e.value());
    m.put("level", e.level().name().toLowerCase(Locale.ROOT));
    m.put("owner", e.owner());
    m.put("swarm", e.swarm());
    m.put("project", e.project());
    m.put("tags", e.tags());
    m.put("metadata", e.metadata());
    m.put("createdAt", e.createdAt().toString());
    m.put("updatedAt", e.updatedAt().toString());
    m.put("expiresAt", e.expiresAt() == null ? null : e.expiresAt().toString());
    return m;
  }

  static CommandFailure noEntry(String key, String namespace) {
    return CommandFailure.failed(
        "no entry '" + key + "' in namespace '" + namespace + "' (or it expired)",
        "cfn memory list shows the keys");
  }

  /** An entry the API answered, described as {@link #describe(MemoryEntry)} does. */
  static String describe(JsonNode e) {
    return e.path("namespace").asText()
        + "/"
        + e.path("key").asText()
        + " ("
        + e.path("level").asText()
        + ", owner "
        + e.path("owner").asText()
        + (e.path("expiresAt").isNull() || e.path("expiresAt").isMissingNode()
            ? ", no expiry"
            : ", expires " + e.path("expiresAt").asText())
        + ")";
  }

  static String oneLine(String s, int max) {
    String flat = s.replace('\n', ' ').replace('\r', ' ');
    return flat.length() <= max ? flat : flat.substring(0, max - 1) + "…";
  }

  static String describe(MemoryEntry e) {
    return e.namespace()
        + "/"
        + e.key()
        + " ("
        + e.level().name().toLowerCase(Locale.ROOT)
        + ", owner "
        + e.owner()
        + (e.expiresAt() == null ? ", no expiry" : ", expires " + e.expiresAt())
        + ")";
  }

  @Command(
      name = "get",
      mixinStandardHelpOptions = true,
      description = "Prints the value of KEY (the whole entry with --json); exit 1 when missing.")
  static final class Get extends MemorySubcommand {
    @Parameters(paramLabel = "KEY", description = "The key.")
    String key;

    @Override
    int run(SqliteMemoryStore memory, MemoryAccessor who, PrintWriter out) {
      Optional<MemoryEntry> found = memory.get(who, options.namespace, key);
      if (found.isEmpty()) {
        throw CommandFailure.failed(
            "no entry '" + key + "' in namespace '" + options.namespace + "' (or it expired)",
            "cfn memory list shows the keys");
      }
      if (options.json) {
        printJson(out, json(found.get()));
      } else {
        out.println(found.get().value());
      }
      return 0;
    }

    @Override
    int remote(NodeClient node, PrintWriter out) {
      JsonNode e = node.get(entryPath(key)).orElseThrow(() -> noEntry(key, options.namespace));
      if (options.json) {
        printJson(out, e);
      } else {
        out.println(e.path("value").asText());
      }
      return 0;
    }
  }

  @Command(
      name = "put",
      mixinStandardHelpOptions = true,
      description = {
        "Stores VALUE under KEY (creates the entry or replaces it).",
        "Replaces the value, metadata, tags and expiry. A new entry is private unless --level"
            + " says otherwise; an existing one keeps its level unless its owner changes it."
      })
  static final class Put extends MemorySubcommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key.")
    String key;

    @Parameters(index = "1", paramLabel = "VALUE", description = "The value (text or JSON).")
    String value;

    @Option(
        names = "--level",
        paramLabel = "LEVEL",
        converter = LevelConverter.class,
        description = "private, swarm, project or public (new entries: private).")
    MemoryAccessLevel level;

    @Option(
        names = "--ttl",
        paramLabel = "DURATION",
        description = "Expire after this long: 30s, 10m, 2h, 7d (or ISO-8601, PT90M).")
    Duration ttl;

    @Option(
        names = "--meta",
        paramLabel = "NAME=VALUE",
        description = "Metadata, repeatable: --meta source=planner --meta confidence=0.9")
    Map<String, String> meta = new LinkedHashMap<>();

    @Option(names = "--tag", paramLabel = "TAG", description = "A tag to find it by, repeatable.")
    List<String> tags = new ArrayList<>();

    @Override
    boolean createsFile() {
      return true;
    }

    @Override
    int run(SqliteMemoryStore memory, MemoryAccessor who, PrintWriter out) {
      ValueConverters.positive("--ttl", ttl);
      MemoryWrite write =
          new MemoryWrite(level, ttl, meta, tags); // validated by the record and the store
      MemoryEntry stored = memory.put(who, options.namespace, key, value, write);
      if (options.json) {
        printJson(out, json(stored));
      } else {
        out.println("stored " + describe(stored));
      }
      return 0;
    }

    @Override
    int remote(NodeClient node, PrintWriter out) {
      ValueConverters.positive("--ttl", ttl);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("value", value);
      if (level != null) {
        body.put("level", level.name().toLowerCase(Locale.ROOT));
      }
      if (ttl != null) {
        body.put("ttlSeconds", Math.max(1, ttl.toSeconds()));
      }
      if (!meta.isEmpty()) {
        body.put("metadata", meta);
      }
      if (!tags.isEmpty()) {
        body.put("tags", tags);
      }
      JsonNode stored =
          node.call("PUT", entryPath(key), body).orElseThrow(() -> noEntry(key, options.namespace));
      if (options.json) {
        printJson(out, stored);
      } else {
        out.println("stored " + describe(stored) + " on " + node.base());
      }
      return 0;
    }
  }

  @Command(
      name = "search",
      mixinStandardHelpOptions = true,
      description = {
        "Full-text search over keys, values and tags, most relevant first.",
        "Words must all match; word* matches a prefix, \"two words\" a phrase, a OR b either."
            + " Ranked by BM25 (--json shows the relevance)."
      })
  static final class Search extends MemorySubcommand {
    @Parameters(arity = "1..*", paramLabel = "QUERY", description = "The words to search for.")
    List<String> words;

    @Option(names = "--limit", paramLabel = "N", description = "At most N results (default: 10).")
    int limit = 10;

    @Option(names = "--all-namespaces", description = "Search every namespace, not just -n.")
    boolean allNamespaces;

    @Override
    int run(SqliteMemoryStore memory, MemoryAccessor who, PrintWriter out) {
      String query = String.join(" ", words);
      List<MemoryMatch> matches =
          memory.search(who, query, allNamespaces ? null : options.namespace, limit);
      List<Found> found = new ArrayList<>();
      for (MemoryMatch m : matches) {
        MemoryEntry e = m.entry();
        found.add(new Found(m.relevance(), json(e), e.namespace() + "/" + e.key(), e.value()));
      }
      return print(out, found, "'" + query + "'");
    }

    @Override
    int remote(NodeClient node, PrintWriter out) {
      String query = String.join(" ", words);
      ValueConverters.atLeast("--limit", limit, 1);
      String path =
          "/v1/memory?q="
              + NodeClient.segment(query)
              + "&limit="
              + limit
              + (allNamespaces ? "" : "&namespace=" + NodeClient.segment(options.namespace));
      JsonNode matches = node.get(path).orElseThrow().path("matches");
      List<Found> found = new ArrayList<>();
      for (JsonNode m : matches) {
        ObjectNode entry = m.deepCopy();
        entry.remove("relevance");
        found.add(
            new Found(
                m.path("relevance").asDouble(),
                entry,
                m.path("namespace").asText() + "/" + m.path("key").asText(),
                m.path("value").asText()));
      }
      return print(out, found, "'" + query + "' on " + node.base());
    }

    /** One match, from the store or from a node: its JSON entry and what a line shows of it. */
    private record Found(double relevance, Object entry, String name, String value) {}

    /**
     * Prints the matches as JSON rows or as ranked lines and a count of matches for {@code what}.
     */
    private int print(PrintWriter out, List<Found> found, String what) {
      if (options.json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Found f : found) {
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("relevance", f.relevance());
          row.put("entry", f.entry());
          rows.add(row);
        }
        printJson(out, rows);
        return 0;
      }
      int rank = 0;
      for (Found f : found) {
        out.printf(Locale.ROOT, "%3d. %-40s %s%n", ++rank, f.name(), oneLine(f.value(), 80));
      }
      out.println(found.size() + " match(es) for " + what);
      return 0;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Deletes KEY; exit 1 when there is no such entry.")
  static final class Delete extends MemorySubcommand {
    @Parameters(paramLabel = "KEY", description = "The key.")
    String key;

    @Override
    int run(SqliteMemoryStore memory, MemoryAccessor who, PrintWriter out) {
      if (!memory.delete(who, options.namespace, key)) {
        throw CommandFailure.failed(
            "no entry '" + key + "' in namespace '" + options.namespace + "'",
            "cfn memory list shows the keys");
      }
      out.println("deleted " + options.namespace + "/" + key);
      return 0;
    }

    @Override
    int remote(NodeClient node, PrintWriter out) {
      node.call("DELETE", entryPath(key), null)
          .orElseThrow(
              () ->
                  CommandFailure.failed(
                      "no entry '" + key + "' in namespace '" + options.namespace + "'",
                      "cfn memory list --server URL shows the keys"));
      out.println("deleted " + options.namespace + "/" + key + " on " + node.base());
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Lists the entries of the namespace you may read, in key order.")
  static final class ListEntries extends MemorySubcommand {
    @Option(names = "--prefix", paramLabel = "PREFIX", description = "Only keys starting so.")
    String prefix;

    @Option(names = "--limit", paramLabel = "N", description = "At most N entries (default: 100).")
    int limit = 100;

    @Override
    int run(SqliteMemoryStore memory, MemoryAccessor who, PrintWriter out) {
      List<MemoryEntry> entries = memory.list(who, options.namespace, prefix, limit);
      if (options.json) {
        printJson(out, entries.stream().map(MemoryCommand::json).toList());
        return 0;
      }
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"KEY", "LEVEL", "OWNER", "EXPIRES", "VALUE"});
      for (MemoryEntry e : entries) {
        rows.add(
            new String[] {
              e.key(),
              e.level().name().toLowerCase(Locale.ROOT),
              e.owner(),
              e.expiresAt() == null ? "-" : e.expiresAt().toString(),
              oneLine(e.value(), 60)
            });
      }
      Table.print(out, rows);
      out.println(
          entries.size()
              + " entr"
              + (entries.size() == 1 ? "y" : "ies")
              + " in namespace '"
              + options.namespace
              + "' of "
              + options.db);
      return 0;
    }

    @Override
    int remote(NodeClient node, PrintWriter out) {
      ValueConverters.atLeast("--limit", limit, 1);
      String path =
          "/v1/memory/"
              + NodeClient.segment(options.namespace)
              + "?limit="
              + limit
              + (prefix == null ? "" : "&prefix=" + NodeClient.segment(prefix));
      JsonNode entries = node.get(path).orElseThrow().path("entries");
      if (options.json) {
        printJson(out, entries);
        return 0;
      }
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"KEY", "LEVEL", "OWNER", "EXPIRES", "VALUE"});
      for (JsonNode e : entries) {
        rows.add(
            new String[] {
              e.path("key").asText(),
              e.path("level").asText(),
              e.path("owner").asText(),
              e.path("expiresAt").isNull() ? "-" : e.path("expiresAt").asText(),
              oneLine(e.path("value").asText(), 60)
            });
      }
      Table.print(out, rows);
      out.println(
          entries.size()
              + " entr"
              + (entries.size() == 1 ? "y" : "ies")
              + " in namespace '"
              + options.namespace
              + "' on "
              + node.base());
      return 0;
    }
  }

  /** {@code private|swarm|project|public}, any case. */
  static final class LevelConverter implements CommandLine.ITypeConverter<MemoryAccessLevel> {
    @Override
    public MemoryAccessLevel convert(String text) {
      try {
        return MemoryAccessLevel.valueOf(text.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + text + "' is not an access level: use private, swarm, project or public");
      }
    }
  }
}
