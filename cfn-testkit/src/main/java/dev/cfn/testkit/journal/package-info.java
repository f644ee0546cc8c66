/**
 * A journal that fails or loses commits on purpose: {@link dev.cfn.testkit.journal.FaultyJournal},
 * a wrapper around any {@link dev.cfn.core.spi.Journal} (the in-memory one, SQLite, PostgreSQL) for
 * tests of what the runtime, a flow or a check does when the store fails (a commit refused, nothing
 * applied) or lies (a commit acknowledged with its effects dropped).
 *
 * <p>The one package of cfn-testkit that needs a cfn module: cfn-core, an optional dependency of
 * cfn-testkit (not passed on), which every user of a journal has already. cfn-core's own tests
 * cannot use it: cfn-testkit depends on cfn-core.
 */
package dev.cfn.testkit.journal;
