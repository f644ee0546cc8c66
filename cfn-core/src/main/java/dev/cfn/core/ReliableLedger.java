package dev.cfn.core;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the two RELIABLE stages share: failed attempts per message id, the recovered ids still to be
 * checked against the journal's acknowledged ids, and the counters the meters read. The journal
 * stage ({@link JournalAppend}) fills it at recovery; the acknowledge stage ({@link Acknowledge})
 * reads and clears it.
 */
final class ReliableLedger {
  final ConcurrentHashMap<Long, Integer> attempts = new ConcurrentHashMap<>();
  // Recovered messages are checked against the acknowledged ids before their handler runs.
  final Set<Long> recovered = ConcurrentHashMap.newKeySet();
  final AtomicLong acknowledged = new AtomicLong();
  final AtomicLong redeliveries = new AtomicLong();
  volatile double recoverySeconds = Double.NaN;
  volatile long recoveredCount;
}
