/**
 * {@code cfn certify}: the seed's production certification, each check driving a real node on the
 * real path, reporting what it measured beside the seed's claim, and able to fail.
 */
package dev.cfn.certify;
