/**
 * JMH microbenchmarks of the dispatch hot path through cfn's public API. The mailbox benchmark sits
 * in {@code dev.cfn.core} of this module because the mailbox is package-private. Run them with
 * {@code ./cfn bench jmh}.
 */
package dev.cfn.bench.jmh;
