package dev.cfn.cluster.nats;

import dev.cfn.core.AgentId;
import dev.cfn.core.TopicId;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The NATS subjects of one cfn namespace, and the token encoding that lets any agent id or topic
 * round-trip through them.
 *
 * <p><b>Token encoding.</b> A NATS subject is tokens separated by {@code .}; a token must not be
 * empty, must not hold white space, and {@code *} or {@code >} as a whole token are wildcards. cfn
 * ids may hold dots (types such as {@code swarm.alpha}) and any visible ASCII (keys), so every id
 * part is written as one token in an escaping scheme: the characters {@code A-Z a-z 0-9 -} stand
 * for themselves; every other character is written as its UTF-8 bytes, each as {@code _} followed
 * by two upper-case hexadecimal digits ({@code .} is {@code _2E}, {@code _} is {@code _5F}, {@code
 * é} is {@code _C3_A9}); the empty string is the lone token {@code _} (which no other string
 * produces, since every other {@code _} is followed by two hex digits). A token is therefore made
 * of {@code [A-Za-z0-9_-]} only, the encoding is injective, and {@link #decodeToken} inverts it.
 * Common ids stay readable: {@code coder/42} is {@code coder.42}. The longest AgentId (type 64, key
 * 255 characters) encodes to at most 192 + 765 characters, far under the server's 4096-byte control
 * line; {@link #MAX_TOKEN_LENGTH} bounds a token for strings beyond AgentId's rules.
 *
 * <p><b>Subjects</b>, for namespace {@code ns} (1 to 32 of {@code [a-z0-9-]}):
 *
 * <ul>
 *   <li>{@code cfn.ns.rel.P.TYPE.KEY}: a reliable message to agent {@code TYPE/KEY} in partition
 *       {@code P} (decimal; see {@link Partitioner}). The JetStream work-queue stream holds {@code
 *       cfn.ns.rel.>}; the consumer of partition {@code P} filters {@code cfn.ns.rel.P.>}.
 *   <li>{@code cfn.ns.be.P.TYPE.KEY}: a best-effort (core NATS) message to the same agent; the
 *       owner of partition {@code P} subscribes {@code cfn.ns.be.P.>}.
 *   <li>{@code cfn.ns.topic.SOURCE.SEG1...SEGn}: a publication on topic {@code SEG1...SEGn@SOURCE}
 *       (each topic segment a token of its own, so NATS wildcards can select topic types).
 *   <li>{@code cfn.ns.inbox.NODE.ID}: a reply to request {@code ID} sent by node {@code NODE}.
 *   <li>{@code cfn.ns.answer.NODE}: the hint that a RELIABLE request node {@code NODE} took from
 *       outside the cluster has its answer stored (the body is the request's id).
 * </ul>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Subjects {

  /** Longest encoded token accepted (bytes of the subject line stay well under 4096). */
  public static final int MAX_TOKEN_LENGTH = 1024;

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private final String namespace;
  private final String prefix;

  private Subjects(String namespace) {
    this.namespace = namespace;
    this.prefix = "cfn." + namespace + ".";
  }

  /**
   * The subjects of namespace {@code namespace}.
   *
   * @throws IllegalArgumentException when the namespace is not 1 to 32 of {@code [a-z0-9-]}
   */
  public static Subjects of(String namespace) {
    if (namespace == null || namespace.isEmpty() || namespace.length() > 32) {
      throw new IllegalArgumentException(
          "NATS namespace '"
              + namespace
              + "' must be 1 to 32 characters (fix: use a short name such as 'prod' or 'team-a')");
    }
    for (int i = 0; i < namespace.length(); i++) {
      char c = namespace.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        throw new IllegalArgumentException(
            "NATS namespace '"
                + namespace
                + "' has '"
                + c
                + "' at index "
                + i
                + " (fix: use only lower-case letters, digits and '-')");
      }
    }
    return new Subjects(namespace);
  }

  /** The namespace. */
  public String namespace() {
    return namespace;
  }

  /** The subject of a reliable message to {@code agent} in {@code partition}. */
  public String reliable(int partition, AgentId agent) {
    return prefix
        + "rel."
        + partition
        + "."
        + encodeToken(agent.type())
        + "."
        + encodeToken(agent.key());
  }

  /** The subjects the reliable stream captures: {@code cfn.ns.rel.>}. */
  public String reliableStreamFilter() {
    return prefix + "rel.>";
  }

  /** The filter of partition {@code partition}'s consumer: {@code cfn.ns.rel.P.>}. */
  public String reliablePartitionFilter(int partition) {
    return prefix + "rel." + partition + ".>";
  }

  /** The subject of a best-effort message to {@code agent} in {@code partition}. */
  public String bestEffort(int partition, AgentId agent) {
    return prefix
        + "be."
        + partition
        + "."
        + encodeToken(agent.type())
        + "."
        + encodeToken(agent.key());
  }

  /** What the owner of {@code partition} subscribes for best-effort messages. */
  public String bestEffortPartitionFilter(int partition) {
    return prefix + "be." + partition + ".>";
  }

  /** The subject of a publication on {@code topic}. */
  public String topic(TopicId topic) {
    StringBuilder s =
        new StringBuilder(prefix).append("topic.").append(encodeToken(topic.source()));
    for (String segment : topic.type().split("\\.", -1)) {
      s.append('.').append(encodeToken(segment));
    }
    return s.toString();
  }

  /**
   * NATS subjects that together receive every publication whose topic type matches the cfn pattern
   * {@code pattern} ({@code *} one segment, {@code #} zero or more). When {@code #} is not the last
   * segment the subjects over-approximate (NATS has no "zero or more" in the middle), so the
   * receiver still filters the topic type with cfn's own matcher.
   */
  public List<String> topicFilters(String pattern) {
    String[] segments = pattern == null ? new String[] {""} : pattern.split("\\.", -1);
    for (String segment : segments) {
      if (!segment.equals("*") && !segment.equals("#") && !isTopicSegment(segment)) {
        throw new IllegalArgumentException(
            "topic pattern '"
                + pattern
                + "' has segment '"
                + segment
                + "' (fix: use letters, digits, '_', '-', or a whole-segment '*' or '#')");
      }
    }
    StringBuilder s = new StringBuilder(prefix).append("topic.*");
    List<String> out = new ArrayList<>(2);
    for (int i = 0; i < segments.length; i++) {
      String segment = segments[i];
      if (segment.equals("#")) {
        if (i > 0) {
          out.add(s.toString()); // '#' matching zero segments
        }
        out.add(s + ".>");
        return out;
      }
      s.append('.').append(segment.equals("*") ? "*" : encodeToken(segment));
    }
    out.add(s.toString());
    return out;
  }

  /** The wildcard subject of node {@code node}'s reply inbox. */
  public String inboxFilter(String node) {
    return prefix + "inbox." + encodeToken(node) + ".*";
  }

  /**
   * The subject on which node {@code node} hears that a RELIABLE request it took from outside the
   * cluster was answered: {@code cfn.ns.answer.NODE}, the body the request's id (a hint; the answer
   * itself is in PostgreSQL).
   */
  public String answers(String node) {
    return prefix + "answer." + encodeToken(node);
  }

  /** The reply subject of request {@code requestId} sent by node {@code node}. */
  public String inbox(String node, String requestId) {
    return prefix + "inbox." + encodeToken(node) + "." + encodeToken(requestId);
  }

  /** A parsed agent subject: the partition and the agent. */
  public record AgentSubject(boolean reliable, int partition, AgentId agent) {}

  /**
   * Reads back a subject made by {@link #reliable} or {@link #bestEffort}.
   *
   * @throws IllegalArgumentException when it is not one of this namespace's agent subjects
   */
  public AgentSubject parseAgent(String subject) {
    String[] t = tokensAfterPrefix(subject);
    if (t.length != 4 || !(t[0].equals("rel") || t[0].equals("be"))) {
      throw new IllegalArgumentException(
          "subject '" + subject + "' is not an agent subject of namespace '" + namespace + "'");
    }
    int partition;
    try {
      partition = Integer.parseInt(t[1]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("subject '" + subject + "' has no partition number", e);
    }
    return new AgentSubject(
        t[0].equals("rel"), partition, new AgentId(decodeToken(t[2]), decodeToken(t[3])));
  }

  /** Reads back a subject made by {@link #topic}. */
  public TopicId parseTopic(String subject) {
    String[] t = tokensAfterPrefix(subject);
    if (t.length < 3 || !t[0].equals("topic")) {
      throw new IllegalArgumentException(
          "subject '" + subject + "' is not a topic subject of namespace '" + namespace + "'");
    }
    StringBuilder type = new StringBuilder();
    for (int i = 2; i < t.length; i++) {
      if (i > 2) {
        type.append('.');
      }
      type.append(decodeToken(t[i]));
    }
    return new TopicId(type.toString(), decodeToken(t[1]));
  }

  private String[] tokensAfterPrefix(String subject) {
    if (subject == null || !subject.startsWith(prefix)) {
      throw new IllegalArgumentException(
          "subject '" + subject + "' is not in namespace '" + namespace + "'");
    }
    return subject.substring(prefix.length()).split("\\.", -1);
  }

  /**
   * Encodes any string as one NATS subject token (see the class comment).
   *
   * @throws IllegalArgumentException when the string is not valid UTF-16 or encodes to more than
   *     {@link #MAX_TOKEN_LENGTH} characters
   */
  public static String encodeToken(String text) {
    Objects.requireNonNull(text, "text");
    if (text.isEmpty()) {
      return "_";
    }
    StringBuilder out = new StringBuilder(text.length() + 8);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
        out.append(c);
      } else if (c < 0x80) {
        escape(out, c);
      } else {
        int end = Character.isHighSurrogate(c) ? i + 2 : i + 1;
        if (end > text.length()
            || (end == i + 2 && !Character.isLowSurrogate(text.charAt(i + 1)))
            || Character.isLowSurrogate(c)) {
          throw new IllegalArgumentException(
              "text has an unpaired surrogate at index " + i + " (fix: pass well-formed Unicode)");
        }
        for (byte b : text.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
          escape(out, b & 0xFF);
        }
        i = end - 1;
      }
    }
    if (out.length() > MAX_TOKEN_LENGTH) {
      throw new IllegalArgumentException(
          "text encodes to a "
              + out.length()
              + "-character subject token; the limit is "
              + MAX_TOKEN_LENGTH
              + " (fix: use a shorter id)");
    }
    return out.toString();
  }

  private static void escape(StringBuilder out, int b) {
    out.append('_').append(HEX[b >>> 4]).append(HEX[b & 0xF]);
  }

  /**
   * Decodes a token made by {@link #encodeToken}.
   *
   * @throws IllegalArgumentException when the token is not one {@link #encodeToken} produces
   */
  public static String decodeToken(String token) {
    if (token.equals("_")) {
      return "";
    }
    if (token.isEmpty()) {
      throw new IllegalArgumentException("empty subject token");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(token.length());
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c == '_') {
        if (i + 2 >= token.length()) {
          throw new IllegalArgumentException("subject token '" + token + "' ends inside an escape");
        }
        int hi = hex(token.charAt(i + 1));
        int lo = hex(token.charAt(i + 2));
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException(
              "subject token '" + token + "' has a bad escape at index " + i);
        }
        int b = (hi << 4) | lo;
        if (b < 0x80 && isPlain((char) b)) {
          throw new IllegalArgumentException(
              "subject token '" + token + "' escapes a plain character at index " + i);
        }
        bytes.write(b);
        i += 2;
      } else if (isPlain(c)) {
        bytes.write(c);
      } else {
        throw new IllegalArgumentException(
            "subject token '" + token + "' has '" + c + "' at index " + i);
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("subject token '" + token + "' is not UTF-8", e);
    }
  }

  private static boolean isTopicSegment(String segment) {
    if (segment.isEmpty()) {
      return false;
    }
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (!isPlain(c) && c != '_') {
        return false;
      }
    }
    return true;
  }

  private static boolean isPlain(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
