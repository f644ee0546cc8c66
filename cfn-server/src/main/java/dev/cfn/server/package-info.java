/**
 * The cfn node as a server ({@code cfn serve}): the HTTP API over the in-process runtime and its
 * stores, and cfn as an MCP server. Every route is authenticated, authorized, validated and
 * audited.
 */
package dev.cfn.server;
