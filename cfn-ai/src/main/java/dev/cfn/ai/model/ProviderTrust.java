package dev.cfn.ai.model;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * What the user, outside any project, allows a project's {@code .cfn/providers.yaml} to do with
 * secrets from the environment. A project file comes with a cloned repository, so by default it may
 * neither read arbitrary environment variables nor send a key anywhere but to the host the key was
 * issued for.
 *
 * <h2>The rules for a project's providers file ({@link ModelConfig#discover})</h2>
 *
 * <ol>
 *   <li>{@code ${NAME}} expands only variables named {@code *_API_KEY} and those the user lists
 *       under {@code allow-env:}; any other reference is refused with an error naming it.
 *   <li>A provider that would send a secret from the environment (its API key from {@code
 *       OPENAI_API_KEY} / {@code ANTHROPIC_API_KEY} or from {@code ${NAME}}, or a header value from
 *       {@code ${NAME}}) must point at a host that secret is bound to: {@code api.openai.com} for
 *       {@code OPENAI_API_KEY}, {@code api.anthropic.com} for {@code ANTHROPIC_API_KEY}, the host
 *       of {@code OPENAI_BASE_URL} / {@code ANTHROPIC_BASE_URL} when the user set those, or a host
 *       the user lists under {@code hosts:} or in {@code CFN_TRUST_HOSTS}. Otherwise the file is
 *       refused before any request is sent.
 *   <li>Hence no secret from the environment travels over plain {@code http://} unless the user
 *       chose that URL ({@code *_BASE_URL}) or listed its host; the vendors' hosts are bound with
 *       {@code https://}. Plain {@code http://} to a host other than loopback is accepted with a
 *       warning ({@link ModelConfig#warnings()}) in any file.
 *   <li>A file the user trusted ({@code cfn run --trust-providers}, or {@link #trust(Path)}) is
 *       exempt from the three rules above, as long as its content is unchanged: trust is recorded
 *       by the SHA-256 of the file's bytes, outside the project, so a file edited afterwards (by a
 *       model during a run, by a pull) is untrusted again.
 * </ol>
 *
 * <h2>Where the user says so</h2>
 *
 * The folder is {@code $CFN_CONFIG_DIR}, else {@code $XDG_CONFIG_HOME/cfn}, else {@code
 * ~/.config/cfn}. In it, {@code trust.yaml} (written by the user):
 *
 * <pre>{@code
 * hosts: [api.z.ai, "llm.internal:8443"]   # may receive keys from the environment
 * allow-env: [OPENROUTER_REFERER]          # variables a project file may expand besides *_API_KEY
 * }</pre>
 *
 * and {@code trusted-providers} (written by {@code cfn run --trust-providers}: one line per trusted
 * file, {@code <sha256> <path>}). {@code CFN_TRUST_HOSTS} (comma-separated) adds hosts for one
 * shell. A host entry matches the URL's host, or its {@code host:port}.
 */
public final class ProviderTrust {
  /** The user's trust file, in the config folder. */
  public static final String TRUST_FILE = "trust.yaml";

  /** The record of trusted project files, in the config folder. */
  public static final String TRUSTED_FILES = "trusted-providers";

  private static final Pattern KEY_VARIABLE = Pattern.compile("[A-Za-z0-9_]*_API_KEY");

  private final Path folder;
  private final Set<String> hosts;
  private final Set<String> allowEnv;
  private final Set<String> trustedHashes;

  private ProviderTrust(
      Path folder, Set<String> hosts, Set<String> allowEnv, Set<String> trustedHashes) {
    this.folder = folder;
    this.hosts = Set.copyOf(hosts);
    this.allowEnv = Set.copyOf(allowEnv);
    this.trustedHashes = Set.copyOf(trustedHashes);
  }

  /**
   * Trust given in code: hosts that may receive keys and variables a project file may expand.
   * Nothing is read from or recorded to disk.
   *
   * @param hosts hosts (or {@code host:port}) that may receive secrets from the environment
   * @param allowEnv variables a project file may expand besides {@code *_API_KEY}
   * @return the trust
   */
  public static ProviderTrust of(Set<String> hosts, Set<String> allowEnv) {
    return new ProviderTrust(null, lower(hosts), allowEnv, Set.of());
  }

  /**
   * Reads the user's trust: {@code trust.yaml} and {@code trusted-providers} in the config folder
   * (see the class comment), and {@code CFN_TRUST_HOSTS}.
   *
   * @param env the environment
   * @return the trust; empty when the user configured none
   * @throws ModelConfigException when {@code trust.yaml} is invalid
   */
  public static ProviderTrust load(Map<String, String> env) {
    Path folder = folder(env);
    Set<String> hosts = new LinkedHashSet<>();
    Set<String> allow = new LinkedHashSet<>();
    Path file = folder.resolve(TRUST_FILE);
    if (Files.isRegularFile(file)) {
      readTrustFile(file, hosts, allow);
    }
    String extra = env.get("CFN_TRUST_HOSTS");
    if (extra != null) {
      for (String h : extra.split(",")) {
        if (!h.isBlank()) {
          hosts.add(h.strip());
        }
      }
    }
    Set<String> hashes = new LinkedHashSet<>();
    Path record = folder.resolve(TRUSTED_FILES);
    if (Files.isRegularFile(record)) {
      try {
        for (String line : Files.readAllLines(record, StandardCharsets.UTF_8)) {
          String l = line.strip();
          if (!l.isEmpty() && !l.startsWith("#")) {
            hashes.add(l.split("\\s+", 2)[0].toLowerCase(Locale.ROOT));
          }
        }
      } catch (IOException e) {
        throw new ModelConfigException(
            record.toString(), "(file)", "cannot be read (" + e.getMessage() + ")");
      }
    }
    return new ProviderTrust(folder, lower(hosts), allow, hashes);
  }

  private static Set<String> lower(Set<String> hosts) {
    Set<String> out = new LinkedHashSet<>();
    for (String h : hosts) {
      out.add(h.strip().toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /**
   * The config folder: {@code $CFN_CONFIG_DIR}, {@code $XDG_CONFIG_HOME/cfn}, {@code
   * ~/.config/cfn}.
   */
  static Path folder(Map<String, String> env) {
    String dir = env.get("CFN_CONFIG_DIR");
    if (dir != null && !dir.isBlank()) {
      return Path.of(dir);
    }
    String xdg = env.get("XDG_CONFIG_HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Path.of(xdg, "cfn");
    }
    return Path.of(System.getProperty("user.home"), ".config", "cfn");
  }

  private static void readTrustFile(Path file, Set<String> hosts, Set<String> allow) {
    Object root;
    try {
      root =
          new Load(LoadSettings.builder().setLabel(file.toString()).build())
              .loadFromString(dev.cfn.core.io.TextFile.readUtf8(file));
    } catch (IOException | YamlEngineException e) {
      throw new ModelConfigException(
          file.toString(), "(file)", "cannot be read as YAML (" + e.getMessage() + ")");
    }
    if (root == null) {
      return;
    }
    if (!(root instanceof Map<?, ?> m)) {
      throw new ModelConfigException(
          file.toString(), "(top level)", "must be a mapping with hosts: and allow-env: lists");
    }
    for (var e : m.entrySet()) {
      String key = String.valueOf(e.getKey());
      Set<String> target =
          switch (key) {
            case "hosts" -> hosts;
            case "allow-env" -> allow;
            default ->
                throw new ModelConfigException(
                    file.toString(), key, "unknown key; allowed here: [allow-env, hosts]");
          };
      if (!(e.getValue() instanceof List<?> list)) {
        throw new ModelConfigException(
            file.toString(), key, "must be a list, e.g. " + key + ": [a, b]");
      }
      for (Object o : list) {
        target.add(String.valueOf(o).strip());
      }
    }
  }

  /**
   * Records that the user trusts a project's providers file as it is now (its SHA-256), in {@code
   * trusted-providers} of the config folder, created readable by the user only.
   *
   * @param providersFile the file
   * @return this trust with the file trusted
   * @throws ModelConfigException when the file cannot be read or the record cannot be written
   */
  public ProviderTrust trust(Path providersFile) {
    String hash = sha256(providersFile);
    Set<String> hashes = new LinkedHashSet<>(trustedHashes);
    hashes.add(hash);
    if (folder != null) {
      Path record = folder.resolve(TRUSTED_FILES);
      try {
        Files.createDirectories(folder);
        if (!Files.exists(record)) {
          Files.createFile(record);
          try {
            Files.setPosixFilePermissions(record, PosixFilePermissions.fromString("rw-------"));
          } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the folder's permissions apply
          }
        }
        Files.writeString(
            record,
            hash + " " + providersFile.toAbsolutePath().normalize() + "\n",
            StandardCharsets.UTF_8,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new ModelConfigException(
            record.toString(),
            "(file)",
            "cannot record the trusted file ("
                + e.getMessage()
                + "); check the folder's permissions");
      }
    }
    return new ProviderTrust(folder, hosts, allowEnv, hashes);
  }

  /** Whether the file, as it is now, was trusted by the user. */
  boolean trusts(Path providersFile) {
    return !trustedHashes.isEmpty() && trustedHashes.contains(sha256(providersFile));
  }

  /** Whether a project file may expand {@code ${name}}. */
  boolean mayExpand(String name) {
    return KEY_VARIABLE.matcher(name).matches() || allowEnv.contains(name);
  }

  /** Whether the user lists the URL's host (or host:port) as one that may receive secrets. */
  boolean trustsHost(URI url) {
    String host = url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT);
    return hosts.contains(host)
        || (url.getPort() >= 0 && hosts.contains(host + ":" + url.getPort()));
  }

  /** Where the user's trust lives, for messages. */
  String where() {
    return folder == null
        ? "the ProviderTrust given in code"
        : folder.resolve(TRUST_FILE).toString();
  }

  private static String sha256(Path file) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (IOException e) {
      throw new ModelConfigException(
          file.toString(), "(file)", "cannot be read (" + e.getMessage() + ")");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "ProviderTrust[hosts="
        + hosts
        + ", allowEnv="
        + allowEnv
        + ", trustedFiles="
        + trustedHashes.size()
        + (folder == null ? "" : ", folder=" + folder)
        + "]";
  }
}
