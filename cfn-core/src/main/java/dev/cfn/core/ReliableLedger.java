package dev.cfn.core;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the two RELIABLE stages share: failed attempts per message id, the recovered ids still to be
 * checked against the journal's acknowledged ids, and the counters the meters read. The journal
 * stage ({@link JournalAppend}) fills it at recovery; the acknowledge stage ({@link Acknowledge})
 * reads and clears it. The reply stage ({@link ReliableReplies}) counts the replies it takes.
 */
final class ReliableLedger {
  final ConcurrentHashMap<Long, Integer> attempts = new ConcurrentHashMap<>();
  // Recovered messages are checked against the acknowledged ids before their handler runs.
  final Set<Long> recovered = ConcurrentHashMap.newKeySet();
  // Reliable messages in flight: journaled (or about to be) and neither acknowledged, nor
  // dead-lettered, nor held as a reply for an external caller; AgentRuntime.pendingCount() reads
  // its size. An id is added before its append (removed again if the append fails or was a
  // duplicate), and an outbox message before the acknowledgement that stored it is removed, so the
  // count never reads 0 while something is still on its way.
  final Set<Long> pending = ConcurrentHashMap.newKeySet();
  // Reliable messages whose handler has run in this process and that are not settled yet
  // (acknowledged or dead-lettered): a message handled again (a retry, an acknowledgement that
  // failed, a failed batch handled again one by one) is not a first delivery.
  final Set<Long> handled = ConcurrentHashMap.newKeySet();
  final AtomicLong acknowledged = new AtomicLong();
  final AtomicLong redeliveries = new AtomicLong();
  volatile double recoverySeconds = Double.NaN;
  volatile long recoveredCount;
}
