/**
 * Damage done to a real file on purpose, for tests of what a store does with it: {@link
 * dev.cfn.testkit.file.FileDamage} flips one bit of a byte where a known text is stored, so a
 * record's bytes change on disk without going through the store (as a disk fault or a hand edit
 * would). Depends only on the JDK.
 */
package dev.cfn.testkit.file;
