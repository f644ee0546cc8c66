package dev.cfn.core;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Maps a topic type to the subscriptions it matches. Matching walks every subscription, so the
 * result is cached per topic type, and the cache is replaced by an empty one whenever a
 * subscription is added or removed; a publication then costs one hash lookup. A lookup reads the
 * cache reference before the subscription list, so a result computed from a stale list can only
 * land in a cache that has already been replaced.
 */
final class TopicRouter {
  static final Entry[] NONE = new Entry[0];

  private final CopyOnWriteArrayList<Entry> subscriptions = new CopyOnWriteArrayList<>();
  private volatile ConcurrentHashMap<String, Entry[]> cache = new ConcurrentHashMap<>();

  final class Entry implements Subscription {
    final TopicPattern pattern;
    final String agentType;
    final AgentId agent;

    Entry(TopicPattern pattern, String agentType, AgentId agent) {
      this.pattern = pattern;
      this.agentType = agentType;
      this.agent = agent;
    }

    /** The agent a publication on {@code topic} goes to through this subscription. */
    AgentId target(TopicId topic) {
      return agent != null ? agent : new AgentId(agentType, topic.source());
    }

    @Override
    public String pattern() {
      return pattern.toString();
    }

    @Override
    public String agentType() {
      return agentType;
    }

    @Override
    public AgentId agent() {
      return agent;
    }

    @Override
    public void close() {
      if (subscriptions.remove(this)) {
        cache = new ConcurrentHashMap<>();
      }
    }

    @Override
    public String toString() {
      return pattern + " -> " + (agent != null ? agent : agentType + "/<source>");
    }
  }

  Subscription add(TopicPattern pattern, String agentType, AgentId agent) {
    Entry e = new Entry(pattern, agentType, agent);
    subscriptions.add(e);
    cache = new ConcurrentHashMap<>();
    return e;
  }

  Entry[] match(String topicType) {
    ConcurrentHashMap<String, Entry[]> c = cache;
    Entry[] hit = c.get(topicType);
    if (hit != null) {
      return hit;
    }
    List<Entry> found = subscriptions.stream().filter(s -> s.pattern.matches(topicType)).toList();
    Entry[] result = found.isEmpty() ? NONE : found.toArray(Entry[]::new);
    if (c.size() < 100_000) {
      c.put(topicType, result);
    }
    return result;
  }

  List<Subscription> list() {
    return List.copyOf(subscriptions);
  }
}
