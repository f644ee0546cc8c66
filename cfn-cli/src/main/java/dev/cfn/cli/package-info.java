/**
 * The {@code cfn} command line (picocli). Each subcommand is a class of its own; they call the
 * public APIs of the other modules and never reach into their internals. {@code bench} runs the
 * benchmark jar in a separate JVM so that benchmark peers never enter the product's classpath.
 */
package dev.cfn.cli;
