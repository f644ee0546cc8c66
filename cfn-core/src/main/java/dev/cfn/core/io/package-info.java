/**
 * Reading the text files users hand to cfn (graph files, price tables, targets, cluster files,
 * certificates) with errors a person can act on: {@link dev.cfn.core.io.TextFile} says which byte
 * of which line is not UTF-8 (or ASCII) instead of the JDK's "Input length = 1".
 */
package dev.cfn.core.io;
