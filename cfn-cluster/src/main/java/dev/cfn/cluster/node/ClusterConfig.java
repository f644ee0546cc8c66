package dev.cfn.cluster.node;

import dev.cfn.cluster.nats.PartitionConsumer;
import dev.cfn.cluster.nats.Subjects;
import dev.cfn.cluster.pg.PgJournal;
import dev.cfn.core.AgentId;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * A node's cluster file ({@code cfn serve --cluster FILE}): which NATS servers and which PostgreSQL
 * database, under which node id.
 *
 * <pre>{@code
 * node: node-a                     # this node's name; each start gets its own id, node-a-<millis>
 * namespace: default               # the cluster's namespace on NATS ([a-z0-9-], 1 to 32)
 * nats:
 *   urls: [nats://nats-1:4222, nats://nats-2:4222, nats://nats-3:4222]
 *   replicas: 3                    # the stream's replicas (3 in production)
 * postgres:
 *   url: jdbc:postgresql://db.example:5432/cfn
 *   user: cfn
 *   password_env: CFN_PG_PASSWORD  # or password_file: /run/secrets/cfn-pg
 *   pool_size: 10
 * partitions: 256                  # the same on every node
 * ttl: 10s                         # heartbeat and lease TTL
 * subscriptions:                   # agent type: the topic patterns it subscribes to
 *   fan: [news.#]                  # ('*' one segment, '#' zero or more)
 *   audit: [orders.*, news.#]
 * responders: [echo]               # agent types whose best-effort requests are answered
 * reconcile_after: 60s             # a message published this long ago and still pending is checked
 * reconcile_every: 30s             # how often partition 0's holder reconciles (default after / 2)
 * skipped_check_every: 30s         # a never-idle partition consumer checks for skipped messages
 * }</pre>
 *
 * <p>Subscriptions and responders name agent types; their code is Java, handed to {@link #join} (a
 * {@link ClusterAgent} per type, a {@link ClusterResponder} per responder type). The file says
 * which of them the cluster wires, the same on every node: a RELIABLE publication on a topic that
 * matches a type's pattern becomes one RELIABLE message to agent {@code (type, topic source)}, on
 * whichever node holds that agent's partition ({@link ClusterNode.Builder#subscribe}); a
 * best-effort request to an agent of a responder type is answered by the node holding its partition
 * ({@link ClusterNode.Builder#responder}). Their syntax is checked by {@link #load}; that each type
 * named has its code, by {@link #check} (and again by {@link #join}) before anything starts.
 *
 * <p>The password is never written in the file (a {@code password} key is refused): it comes from
 * the environment variable {@code password_env} names or the file {@code password_file} names, is
 * handed to the JDBC pool, and never printed ({@link #toString()} and {@link #describe()} leave it
 * out; the JDBC URL, which must not carry one either, is shown cut at {@code ?}).
 *
 * @param node the node's name (its id is this plus the start time)
 * @param namespace the cluster's namespace
 * @param natsUrls the NATS servers
 * @param replicas the stream's replicas
 * @param jdbcUrl the PostgreSQL JDBC URL (no password in it)
 * @param user the database user, or null for the URL's
 * @param passwordSource where the password comes from ({@code env NAME}, {@code file PATH}) or null
 * @param poolSize the JDBC pool's size
 * @param partitions the partitions
 * @param ttl the heartbeat and lease TTL
 * @param subscriptions per agent type, the topic patterns it subscribes to (in the file's order)
 * @param responders the agent types whose best-effort requests are answered
 * @param reconcileAfter how long a published message stays pending before the reconciler checks it
 * @param reconcileEvery how often the holder of partition 0 runs the reconciler
 * @param skippedCheckEvery how often, at least, a partition consumer that is never idle checks for
 *     messages it skipped ({@link PartitionConsumer.Settings#skippedCheckEvery()})
 */
public record ClusterConfig(
    String node,
    String namespace,
    List<String> natsUrls,
    int replicas,
    String jdbcUrl,
    String user,
    String passwordSource,
    int poolSize,
    int partitions,
    Duration ttl,
    Map<String, List<String>> subscriptions,
    List<String> responders,
    Duration reconcileAfter,
    Duration reconcileEvery,
    Duration skippedCheckEvery) {

  private static final Set<String> TOP =
      Set.of(
          "node",
          "namespace",
          "nats",
          "postgres",
          "partitions",
          "ttl",
          "subscriptions",
          "responders",
          "reconcile_after",
          "reconcile_every",
          "skipped_check_every");
  private static final Set<String> NATS = Set.of("urls", "replicas");
  private static final Set<String> PG =
      Set.of("url", "user", "password_env", "password_file", "pool_size", "password");

  /** Validates the parts. */
  public ClusterConfig {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(namespace, "namespace");
    natsUrls = List.copyOf(natsUrls);
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(ttl, "ttl");
    Map<String, List<String>> subs = new LinkedHashMap<>();
    subscriptions.forEach((type, patterns) -> subs.put(type, List.copyOf(patterns)));
    subscriptions = Collections.unmodifiableMap(subs);
    responders = List.copyOf(responders);
    Objects.requireNonNull(reconcileAfter, "reconcileAfter");
    Objects.requireNonNull(reconcileEvery, "reconcileEvery");
    Objects.requireNonNull(skippedCheckEvery, "skippedCheckEvery");
  }

  /**
   * Reads and checks {@code file}; {@code env} is the environment the password variable is looked
   * up in.
   *
   * @throws IllegalArgumentException naming the file, the key and the fix, when anything is wrong
   */
  public static ClusterConfig load(Path file, Map<String, String> env) {
    String text;
    try {
      text = dev.cfn.core.io.TextFile.readUtf8(file);
    } catch (dev.cfn.core.io.TextFile.NotTextException e) {
      throw bad(file, "cannot be read: " + e.getMessage(), "save it as UTF-8");
    } catch (IOException e) {
      throw bad(
          file, "cannot be read (" + e.getMessage() + ")", "give the path of a readable file");
    }
    Object root;
    try {
      root = new Load(LoadSettings.builder().build()).loadFromString(text);
    } catch (YamlEngineException e) {
      throw bad(file, "is not YAML: " + e.getMessage(), "see docs/cluster.md for an example");
    }
    Map<String, Object> top = map(file, root, "the file");
    unknown(file, top, TOP, "");
    Map<String, Object> nats = map(file, top.get("nats"), "nats");
    unknown(file, nats, NATS, "nats.");
    Map<String, Object> pg = map(file, top.get("postgres"), "postgres");
    unknown(file, pg, PG, "postgres.");
    if (pg.containsKey("password")) {
      throw bad(
          file,
          "holds postgres.password: a password is never written in the cluster file",
          "put it in an environment variable named by postgres.password_env, or in a file (mode"
              + " 600) named by postgres.password_file");
    }
    String node = text(file, top, "node", null);
    if (!node.matches("[A-Za-z0-9._-]{1,100}")) {
      throw bad(file, "node '" + node + "' is not 1 to 100 of [A-Za-z0-9._-]", "such as node-a");
    }
    String namespace = text(file, top, "namespace", "default");
    if (!namespace.matches("[a-z0-9-]{1,32}")) {
      throw bad(file, "namespace '" + namespace + "' is not 1 to 32 of [a-z0-9-]", "such as prod");
    }
    Object urls = nats.get("urls");
    List<String> natsUrls = new ArrayList<>();
    if (urls instanceof String one) {
      natsUrls.add(one);
    } else if (urls instanceof List<?> list) {
      for (Object u : list) {
        natsUrls.add(String.valueOf(u));
      }
    }
    if (natsUrls.isEmpty()) {
      throw bad(file, "has no nats.urls", "list the NATS servers, such as [nats://nats-1:4222]");
    }
    for (String u : natsUrls) {
      if (!u.startsWith("nats://") && !u.startsWith("tls://")) {
        throw bad(file, "nats.urls has '" + u + "'", "write nats://HOST:PORT or tls://HOST:PORT");
      }
    }
    int replicas = number(file, nats, "nats.replicas", "replicas", 3, 1, 5);
    String url = text(file, pg, "url", null);
    if (!url.startsWith("jdbc:postgresql:")) {
      throw bad(
          file,
          "postgres.url is not a PostgreSQL JDBC URL",
          "write jdbc:postgresql://HOST:PORT/DB");
    }
    if (url.toLowerCase(Locale.ROOT).contains("password=")) {
      throw bad(
          file,
          "postgres.url carries a password",
          "take it out of the URL and name it with postgres.password_env or password_file");
    }
    String user = pg.containsKey("user") ? text(file, pg, "user", null) : null;
    String source = null;
    if (pg.containsKey("password_env") && pg.containsKey("password_file")) {
      throw bad(file, "has both postgres.password_env and password_file", "keep one");
    }
    if (pg.containsKey("password_env")) {
      String name = text(file, pg, "password_env", null);
      if (env.get(name) == null) {
        throw bad(
            file,
            "names the environment variable " + name + " for the password, which is not set",
            "export " + name + " before starting the node");
      }
      source = "env " + name;
    } else if (pg.containsKey("password_file")) {
      Path secret = Path.of(text(file, pg, "password_file", null));
      if (!Files.isReadable(secret)) {
        throw bad(file, "names password file " + secret + ", which cannot be read", "create it");
      }
      source = "file " + secret;
    }
    int pool =
        number(
            file,
            pg,
            "postgres.pool_size",
            "pool_size",
            PgJournal.DEFAULT_POOL_SIZE,
            PgJournal.MIN_POOL_SIZE,
            PgJournal.MAX_POOL_SIZE);
    int partitions = number(file, top, "partitions", "partitions", 256, 1, 4096);
    Duration ttl =
        duration(file, top, "ttl", "10s", Duration.ofMillis(300), "use 10s in production");
    Duration reconcileAfter =
        duration(
            file,
            top,
            "reconcile_after",
            ClusterNode.DEFAULT_RECONCILE_AFTER.toSeconds() + "s",
            Duration.ofSeconds(1),
            "60s by default");
    Duration reconcileEvery =
        duration(
            file,
            top,
            "reconcile_every",
            reconcileAfter.dividedBy(2).toMillis() + "ms",
            Duration.ofMillis(500),
            "half of reconcile_after by default");
    Duration skippedCheckEvery =
        duration(
            file,
            top,
            "skipped_check_every",
            PartitionConsumer.Settings.DEFAULT_SKIPPED_CHECK.toSeconds() + "s",
            Duration.ofSeconds(1),
            "30s by default");
    Map<String, List<String>> subscriptions = subscriptions(file, top.get("subscriptions"));
    List<String> responders = responders(file, top.get("responders"));
    return new ClusterConfig(
        node,
        namespace,
        natsUrls,
        replicas,
        url,
        user,
        source,
        pool,
        partitions,
        ttl,
        subscriptions,
        responders,
        reconcileAfter,
        reconcileEvery,
        skippedCheckEvery);
  }

  private static Duration duration(
      Path file, Map<String, Object> m, String key, String fallback, Duration min, String hint) {
    String text = text(file, m, key, fallback);
    Duration d;
    try {
      // 1500ms is millis (Duration.parse reads only h, m and s, with decimals: 1.5s, 1m30s)
      d =
          text.matches("\\d{1,12}ms")
              ? Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)))
              : Duration.parse("PT" + text.toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      throw bad(file, key + " '" + text + "' is not a duration", "such as 10s or 1500ms");
    }
    if (d.compareTo(min) < 0) {
      throw bad(
          file,
          key + " " + text + " is below " + min.toMillis() + " ms",
          "at least " + min.toMillis() + " ms; " + hint);
    }
    return d;
  }

  private static Map<String, List<String>> subscriptions(Path file, Object value) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (value == null) {
      return out;
    }
    if (!(value instanceof Map<?, ?> m)) {
      throw bad(
          file,
          "has subscriptions that are not a mapping",
          "write one line per agent type, such as 'fan: [news.#]'");
    }
    Subjects check = Subjects.of("x");
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String type = String.valueOf(e.getKey());
      agentType(file, "subscriptions", type);
      List<String> patterns = new ArrayList<>();
      if (e.getValue() instanceof String one) {
        patterns.add(one);
      } else if (e.getValue() instanceof List<?> list) {
        for (Object p : list) {
          if (!(p instanceof String text)) {
            throw bad(
                file,
                "subscriptions." + type + " has " + p + ", which is not a topic pattern",
                "write patterns such as news.# or orders.*");
          }
          patterns.add(text);
        }
      }
      if (patterns.isEmpty()) {
        throw bad(
            file,
            "subscriptions." + type + " names no topic pattern",
            "write its patterns, such as '" + type + ": [news.#]', or remove the line");
      }
      for (String pattern : patterns) {
        try {
          check.topicFilters(pattern);
        } catch (IllegalArgumentException ex) {
          throw bad(
              file,
              "subscriptions." + type + " has a bad pattern '" + pattern + "'",
              "segments of letters, digits, '_' or '-', or a whole-segment '*' or '#', each"
                  + " separated by one dot, such as news.# or orders.*.new");
        }
      }
      out.put(type, List.copyOf(new LinkedHashSet<>(patterns)));
    }
    return out;
  }

  private static List<String> responders(Path file, Object value) {
    List<String> out = new ArrayList<>();
    if (value == null) {
      return out;
    }
    if (value instanceof String one) {
      out.add(one);
    } else if (value instanceof List<?> list) {
      for (Object t : list) {
        out.add(String.valueOf(t));
      }
    } else {
      throw bad(file, "has responders that are not a list", "write agent types, such as [echo]");
    }
    for (String type : out) {
      agentType(file, "responders", type);
    }
    if (new HashSet<>(out).size() != out.size()) {
      throw bad(file, "lists a responder type twice: " + out, "list each type once");
    }
    return out;
  }

  private static void agentType(Path file, String key, String type) {
    try {
      AgentId.of(type, "x");
    } catch (IllegalArgumentException e) {
      throw bad(
          file,
          key + " names agent type '" + type + "', which is not a valid one",
          "1 to 64 characters: a letter, then letters, digits, '_', '-' or '.', such as fan");
    }
  }

  /**
   * Checks that every agent type the file's {@code subscriptions} and {@code responders} name has
   * its code among {@code agents} and {@code responderCode}; call it before starting anything.
   *
   * @throws IllegalArgumentException naming the type and the fix, when one has none
   */
  public void check(Map<String, ClusterAgent> agents, Map<String, ClusterResponder> responderCode) {
    for (Map.Entry<String, List<String>> e : subscriptions.entrySet()) {
      String type = e.getKey();
      if (!agents.containsKey(type)) {
        throw new IllegalArgumentException(
            "the cluster file subscribes agent type '"
                + type
                + "' to "
                + e.getValue()
                + ", but this node runs no such agent type (it runs "
                + (agents.isEmpty() ? "none" : new TreeSet<>(agents.keySet()))
                + ") (fix: remove the subscription, or register a ClusterAgent for '"
                + type
                + "' on every node); nothing was started");
      }
    }
    for (String type : responders) {
      if (!responderCode.containsKey(type)) {
        throw new IllegalArgumentException(
            "the cluster file lists responder type '"
                + type
                + "', but this node has no responder for it (it has "
                + (responderCode.isEmpty() ? "none" : new TreeSet<>(responderCode.keySet()))
                + ") (fix: remove it from responders, or register a ClusterResponder for '"
                + type
                + "' on every node); nothing was started");
      }
    }
  }

  /** The password, read now from its environment variable or file; null when none is set. */
  String password(Map<String, String> env) {
    if (passwordSource == null) {
      return null;
    }
    if (passwordSource.startsWith("env ")) {
      return env.get(passwordSource.substring(4));
    }
    try {
      return Files.readString(Path.of(passwordSource.substring(5)), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the PostgreSQL password from " + passwordSource.substring(5), e);
    }
  }

  /** One line for logs and the console: no password, the JDBC URL cut at {@code ?}. */
  public String describe() {
    int q = jdbcUrl.indexOf('?');
    return "namespace "
        + namespace
        + ", NATS "
        + String.join(",", natsUrls)
        + " (R"
        + replicas
        + "), PostgreSQL "
        + (q < 0 ? jdbcUrl : jdbcUrl.substring(0, q))
        + (user == null ? "" : " as " + user)
        + (passwordSource == null ? "" : ", password from " + passwordSource)
        + ", "
        + partitions
        + " partitions, TTL "
        + ttl.toMillis()
        + " ms"
        + ", reconcile after "
        + reconcileAfter.toMillis()
        + " ms every "
        + reconcileEvery.toMillis()
        + " ms, skipped-message check under load every "
        + skippedCheckEvery.toMillis()
        + " ms"
        + (subscriptions.isEmpty() ? "" : ", subscriptions " + subscriptions)
        + (responders.isEmpty() ? "" : ", responders " + responders);
  }

  @Override
  public String toString() {
    return "ClusterConfig[node " + node + ", " + describe() + "]";
  }

  /**
   * Joins the cluster as this file says, with no responders: {@link #join(Map, Map, Map, long)}
   * with an empty map of them.
   */
  public Joined join(Map<String, String> env, Map<String, ClusterAgent> agents, long startMillis)
      throws Exception {
    return join(env, agents, Map.of(), startMillis);
  }

  /**
   * Joins the cluster as this file says: checks the file's types against the code given ({@link
   * #check}, before anything opens), opens the journal and the NATS connection and starts a {@link
   * ClusterNode} whose id is the node's name plus {@code startMillis}, running {@code agents},
   * subscribed as the file's {@code subscriptions} say and answering requests to the file's {@code
   * responders} types with their code from {@code responderCode} (a responder the file does not
   * list is not served). Closing the result leaves the cluster and closes both.
   *
   * @throws IllegalArgumentException when the file names a type without its code; nothing opened
   */
  public Joined join(
      Map<String, String> env,
      Map<String, ClusterAgent> agents,
      Map<String, ClusterResponder> responderCode,
      long startMillis)
      throws Exception {
    return join(env, agents, responderCode, List.of(), startMillis);
  }

  /**
   * {@link #join(Map, Map, Map, long)} with a journal that also stores payloads of {@code
   * payloadTypes} ({@link PgJournal.Builder#payloadType}), such as cfn-ai's {@code Task} for the
   * LLM agents of {@code cfn serve --cluster}.
   */
  public Joined join(
      Map<String, String> env,
      Map<String, ClusterAgent> agents,
      Map<String, ClusterResponder> responderCode,
      List<Class<?>> payloadTypes,
      long startMillis)
      throws Exception {
    check(agents, responderCode);
    PgJournal.Builder b =
        PgJournal.builder(jdbcUrl)
            .poolSize(poolSize)
            .payloadType(payloadTypes.toArray(Class<?>[]::new));
    if (user != null) {
      b.user(user);
    }
    String password = password(env);
    if (password != null) {
      b.password(password);
    }
    PgJournal journal = b.open();
    Connection nats = null;
    try {
      nats =
          Nats.connect(
              new Options.Builder()
                  .servers(natsUrls.toArray(String[]::new))
                  .connectionName("cfn-" + node)
                  .maxReconnects(-1)
                  .build());
      ClusterNode.Builder nb =
          ClusterNode.builder(journal, nats, node + "-" + startMillis)
              .namespace(namespace)
              .partitions(partitions)
              .ttl(ttl)
              .replicas(replicas)
              .reconcileAfter(reconcileAfter)
              .reconcileEvery(reconcileEvery)
              .consumerSettings(
                  PartitionConsumer.Settings.DEFAULT.withSkippedCheckEvery(skippedCheckEvery));
      agents.forEach(nb::agent);
      subscriptions.forEach(
          (type, patterns) -> patterns.forEach(pattern -> nb.subscribe(pattern, type)));
      for (String type : responders) {
        nb.responder(type, responderCode.get(type));
      }
      return new Joined(nb.start(), nats, journal);
    } catch (Exception | Error e) {
      if (nats != null) {
        nats.close();
      }
      journal.close();
      throw e;
    }
  }

  /** A node joined to its cluster, with the connections it owns; closing leaves and closes. */
  public record Joined(ClusterNode node, Connection nats, PgJournal journal)
      implements AutoCloseable {
    @Override
    public void close() throws InterruptedException {
      try {
        node.close();
      } finally {
        try {
          nats.close();
        } finally {
          journal.close();
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Path file, Object value, String what) {
    if (value instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw bad(
        file,
        (value == null ? "has no " : "has a " + what + " that is not a mapping: ") + what,
        "see docs/cluster.md for an example");
  }

  private static void unknown(Path file, Map<String, Object> m, Set<String> known, String prefix) {
    for (Object k : m.keySet()) {
      if (!known.contains(String.valueOf(k))) {
        throw bad(
            file,
            "has an unknown key " + prefix + k,
            "the keys are " + String.join(", ", new TreeSet<>(known)));
      }
    }
  }

  private static String text(Path file, Map<String, Object> m, String key, String fallback) {
    Object v = m.get(key);
    if (v == null) {
      if (fallback != null) {
        return fallback;
      }
      throw bad(file, "has no " + key, "add it; see docs/cluster.md");
    }
    return String.valueOf(v).strip();
  }

  private static int number(
      Path file, Map<String, Object> m, String name, String key, int fallback, int min, int max) {
    Object v = m.get(key);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Number n) || n.intValue() < min || n.intValue() > max) {
      throw bad(file, name + " is " + v, "a whole number from " + min + " to " + max);
    }
    return n.intValue();
  }

  private static IllegalArgumentException bad(Path file, String what, String fix) {
    return new IllegalArgumentException(
        "cluster file " + file + " " + what + " (fix: " + fix + "); nothing was started");
  }
}
