package dev.cfn.cli;

import dev.cfn.server.tls.ServerCertificate;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --server URL [--token-file FILE] [--fingerprint SHA256]}: the options that make an
 * operator command ({@code dlq}, {@code memory}, {@code store check}, {@code backup}) act on a
 * running node through its API ({@code cfn serve}) instead of opening the local files, so that it
 * never contends for the node's lock.
 *
 * <p>The token comes from {@code --token-file FILE} or the {@code CFN_TOKEN} environment variable,
 * never from the command line (where {@code ps} and shell history would show it). The server's
 * certificate is pinned: by {@code --fingerprint} (the SHA-256 {@code cfn serve} prints), or else
 * by the certificate in {@code .cfn/tls/server.crt} of the current folder (the node's own, when run
 * from its folder). A plain {@code http://} URL is for a node started with {@code --insecure-http}.
 *
 * <p>{@code --client-cert FILE} (the PEM {@code cfn cert issue --out} wrote) presents a client
 * certificate to a node started with {@code --client-certs}: it authenticates alone, and no token
 * is sent unless {@code --token-file} is given too (the server then goes by the token).
 */
final class ServerOptions {
  /** The variable a token is read from when no {@code --token-file} is given. */
  static final String TOKEN_ENV = "CFN_TOKEN";

  /** The environment the token is read from (tests replace it). */
  static Map<String, String> environment = System.getenv();

  /** Where the node's certificate is trusted from when no {@code --fingerprint} is given. */
  static final Path LOCAL_CERTIFICATE = Path.of(".cfn", "tls", ServerCertificate.CERTIFICATE_FILE);

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--server",
      paramLabel = "URL",
      description =
          "Act on the running node at URL (as cfn serve printed it, https://127.0.0.1:8443) through"
              + " its API instead of the local files; the token comes from --token-file or"
              + " CFN_TOKEN.")
  String server;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "With --server: the file holding the API token (default: the CFN_TOKEN variable).")
  Path tokenFile;

  @Option(
      names = "--fingerprint",
      paramLabel = "SHA256",
      description =
          "With --server: the SHA-256 fingerprint of the server's certificate, as cfn serve printed"
              + " it (default: trust .cfn/tls/server.crt of the current folder).")
  String fingerprint;

  @Option(
      names = "--client-cert",
      paramLabel = "FILE",
      description =
          "With --server: present this client certificate and key (PEM, from cfn cert issue) to a"
              + " node started with --client-certs, instead of a token.")
  Path clientCert;

  /** True when {@code --server} was given. */
  boolean remote() {
    if (server == null) {
      for (String only : new String[] {"--token-file", "--fingerprint", "--client-cert"}) {
        if (given(only)) {
          throw CommandFailure.usage(
              only + " only works with --server URL", "add --server URL, or drop " + only);
        }
      }
    }
    return server != null;
  }

  /**
   * A client of the node at {@code --server}, after checking the options: none of {@code localOnly}
   * (options that name local files or a local identity) may be given with it.
   */
  NodeClient connect(String... localOnly) {
    for (String option : localOnly) {
      if (given(option)) {
        throw CommandFailure.usage(
            option + " names a local file or identity and does not go with --server",
            "drop " + option + ": the node uses its own files, and the token says who you are");
      }
    }
    URI url = url();
    dev.cfn.server.tls.ClientIdentity identity = null;
    if (clientCert != null) {
      if (url.getScheme().equals("http")) {
        throw CommandFailure.usage(
            "--client-cert needs TLS, and " + server + " is plain HTTP",
            "use the https:// URL cfn serve --client-certs printed, or drop --client-cert");
      }
      PathChecks.existingFile("--client-cert", clientCert, "client certificate file");
      try {
        identity = dev.cfn.server.tls.ClientIdentity.readPem(clientCert);
      } catch (IOException e) {
        throw CommandFailure.usage("--client-cert: " + e.getMessage(), null);
      }
    }
    String token = identity != null && tokenFile == null ? null : token();
    if (url.getScheme().equals("http")) {
      if (fingerprint != null) {
        throw CommandFailure.usage(
            "--fingerprint pins a TLS certificate, and " + server + " is plain HTTP",
            "use the https:// URL cfn serve printed, or drop --fingerprint");
      }
      return NodeClient.plain(url, token);
    }
    return NodeClient.pinned(url, token, pin(), identity);
  }

  private boolean given(String option) {
    return mixee.commandLine().getParseResult().hasMatchedOption(option);
  }

  private URI url() {
    URI url;
    try {
      url = new URI(server.strip());
    } catch (URISyntaxException e) {
      url = null;
    }
    String scheme = url == null ? null : url.getScheme();
    if (url == null
        || scheme == null
        || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http"))
        || url.getHost() == null
        || url.getPort() == 0
        || url.getRawUserInfo() != null
        || url.getRawQuery() != null
        || url.getRawFragment() != null
        || !(url.getRawPath() == null
            || url.getRawPath().isEmpty()
            || url.getRawPath().equals("/"))) {
      throw CommandFailure.usage(
          "--server '" + server + "' is not a server URL",
          "give it as cfn serve printed it, such as --server https://127.0.0.1:8443");
    }
    int port = url.getPort() > 0 ? url.getPort() : scheme.equalsIgnoreCase("https") ? 443 : 80;
    try {
      return new URI(scheme.toLowerCase(Locale.ROOT), null, url.getHost(), port, null, null, null);
    } catch (URISyntaxException e) {
      throw CommandFailure.usage(
          "--server '" + server + "' is not a server URL: " + e.getMessage(),
          "give it as cfn serve printed it, such as --server https://127.0.0.1:8443");
    }
  }

  private String token() {
    String token;
    String source;
    if (tokenFile != null) {
      PathChecks.existingFile("--token-file", tokenFile, "token file");
      try {
        token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw CommandFailure.usage(
            "cannot read --token-file " + tokenFile + ": " + e.getMessage(),
            "give a readable file holding the token");
      }
      source = "--token-file " + tokenFile;
    } else {
      token = environment.get(TOKEN_ENV);
      token = token == null ? null : token.strip();
      source = TOKEN_ENV;
      if (token == null) {
        throw CommandFailure.usage(
            "--server needs an API token, and neither --token-file nor " + TOKEN_ENV + " gives one",
            "cfn token create --role operator on the node prints one; put it in a file for"
                + " --token-file FILE, or in the "
                + TOKEN_ENV
                + " variable");
      }
    }
    if (token.isEmpty() || token.lines().count() != 1 || token.chars().anyMatch(c -> c <= ' ')) {
      throw CommandFailure.usage(
          source + " does not hold one token",
          "it must hold the token alone, as cfn token create printed it on its last line");
    }
    return token;
  }

  private byte[] pin() {
    if (fingerprint != null) {
      String hex = fingerprint.strip().replace(":", "");
      if (hex.length() == 64 && hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        return HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
      }
      throw CommandFailure.usage(
          "--fingerprint '" + fingerprint + "' is not a SHA-256 fingerprint",
          "copy the 32 hex pairs cfn serve printed after 'certificate SHA-256 fingerprint'");
    }
    if (!Files.isRegularFile(LOCAL_CERTIFICATE)) {
      throw CommandFailure.usage(
          "nothing to check the server's certificate against: no --fingerprint and no "
              + LOCAL_CERTIFICATE
              + " here",
          "pass --fingerprint with the SHA-256 cfn serve printed, or run from the node's folder");
    }
    return NodeClient.fingerprintOf(LOCAL_CERTIFICATE);
  }
}
