package dev.cfn.server.tls;

import dev.cfn.store.crypto.AtRest;
import dev.cfn.store.crypto.Keyring;
import dev.cfn.store.crypto.KeyringException;
import dev.cfn.store.sqlite.PrivateFiles;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Locale;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS certificate and private key, as PEM files under {@code .cfn/tls/}: {@code
 * server.crt} and {@code server.key} (owner-only {@code 0600}, created with that mode, never
 * chmod-ed after).
 *
 * <p>{@link #loadOrCreate} reads them, or, on a first start without them, generates a self-signed
 * certificate with BouncyCastle: an EC P-256 key from the JDK, valid for one year, for {@code
 * localhost}, {@code 127.0.0.1} and {@code ::1} (and the bind address when it is another one). A
 * client pins it by its SHA-256 {@link #fingerprint()}, which {@code cfn serve} prints. To use a
 * certificate from a CA instead, put its chain and key in the same two files (PEM).
 */
public final class ServerCertificate {
  private static final Logger log = LoggerFactory.getLogger(ServerCertificate.class);

  /** The certificate file's name in the TLS folder. */
  public static final String CERTIFICATE_FILE = "server.crt";

  /** The private key file's name in the TLS folder. */
  public static final String KEY_FILE = "server.key";

  private static final Duration VALIDITY = Duration.ofDays(365);

  private final X509Certificate certificate;
  private final PrivateKey key;
  private final boolean generated;

  private ServerCertificate(X509Certificate certificate, PrivateKey key, boolean generated) {
    this.certificate = certificate;
    this.key = key;
    this.generated = generated;
  }

  /**
   * Reads the certificate and key in {@code dir}; when neither exists, generates a self-signed pair
   * and writes them there. One without the other is refused (nothing is overwritten).
   *
   * @param extraHost the address the server binds, added to the names a generated certificate is
   *     valid for (null for none)
   * @throws IOException when the files cannot be read, parsed or written; the message says which
   */
  public static ServerCertificate loadOrCreate(Path dir, String extraHost) throws IOException {
    Path crt = dir.resolve(CERTIFICATE_FILE);
    Path pem = dir.resolve(KEY_FILE);
    boolean hasCrt = Files.exists(crt);
    boolean hasKey = Files.exists(pem);
    if (hasCrt != hasKey) {
      throw new IOException(
          (hasCrt ? pem : crt)
              + " is missing while "
              + (hasCrt ? crt : pem)
              + " exists (fix: put both back, or remove both so that cfn serve generates a new"
              + " self-signed pair)");
    }
    if (hasCrt) {
      return new ServerCertificate(readCertificate(crt), readKey(pem), false);
    }
    ServerCertificate fresh = generate(extraHost);
    PrivateFiles.createDirectories(dir);
    write(pem, sealedIfKeyring(pem, pemOf(new JcaPKCS8Generator(fresh.key, null))));
    write(crt, pemOf(fresh.certificate));
    log.info("generated a self-signed TLS certificate in {}", crt);
    return fresh;
  }

  /**
   * Seals the private key in {@code dir} under the keyring beside it when it is still plain (it was
   * written before the keyring existed): {@code cfn keys seal-existing} calls it. The key is parsed
   * first (a file that is not a key is refused, unchanged), then replaced atomically, so a crash
   * leaves the plain key or the sealed one.
   *
   * @return true when the key was sealed now; false when there is no key or it is sealed already
   * @throws IOException when there is no keyring, or the key cannot be read or written
   */
  public static boolean sealKeyIfPlain(Path dir) throws IOException {
    Path pem = dir.resolve(KEY_FILE);
    if (!Files.exists(pem)) {
      return false;
    }
    String text = pemText(pem);
    if (text.startsWith(SEALED_BEGIN)) {
      return false;
    }
    parseKey(pem, new java.io.StringReader(text)); // refuses a file that is not a key
    String sealed = sealedIfKeyring(pem, text);
    if (!sealed.startsWith(SEALED_BEGIN)) {
      throw new IOException(
          "no keyring beside "
              + pem
              + ", so its private key cannot be sealed; it was left as it was (fix: cfn keys init,"
              + " or set "
              + Keyring.MASTER_KEY_ENV
              + ")");
    }
    PrivateFiles.writeAtomically(pem, sealed.getBytes(StandardCharsets.US_ASCII));
    readKey(pem); // opens under the keyring, or throws naming the file
    return true;
  }

  /** The certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** True when {@link #loadOrCreate} generated it just now. */
  public boolean generated() {
    return generated;
  }

  /** The SHA-256 of the certificate's DER encoding, as colon-separated upper-case hex. */
  public String fingerprint() {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < digest.length; i++) {
        if (i > 0) {
          b.append(':');
        }
        b.append(HexFormat.of().withUpperCase().toHexDigits(digest[i]));
      }
      return b.toString();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot hash the certificate", e);
    }
  }

  /**
   * A PKCS#12 key store in memory holding the key and certificate under alias {@code cfn},
   * protected by {@code password}.
   */
  public KeyStore keyStore(char[] password) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("cfn", key, password, new X509Certificate[] {certificate});
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the TLS key store", e);
    }
  }

  /** A key store holding only the certificate, as trusted: what a client pinning it uses. */
  public KeyStore trustStore() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("cfn", certificate);
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the trust store", e);
    }
  }

  private static ServerCertificate generate(String extraHost) throws IOException {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair pair = generator.generateKeyPair();
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=cfn self-signed (" + localName() + ")");
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              subject,
              new BigInteger(128, new SecureRandom()),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(VALIDITY)),
              subject,
              pair.getPublic());
      java.util.List<GeneralName> names = new java.util.ArrayList<>();
      names.add(new GeneralName(GeneralName.dNSName, "localhost"));
      names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
      names.add(new GeneralName(GeneralName.iPAddress, "::1"));
      if (extraHost != null
          && !extraHost.isBlank()
          && !extraHost.equals("127.0.0.1")
          && !extraHost.equals("localhost")
          && !extraHost.equals("0.0.0.0")
          && !extraHost.equals("::")) {
        boolean ip = extraHost.chars().allMatch(c -> Character.isDigit(c) || c == '.' || c == ':');
        names.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, extraHost));
      }
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(names.toArray(GeneralName[]::new)));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      X509CertificateHolder holder =
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);
      return new ServerCertificate(cert, pair.getPrivate(), true);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot generate a self-signed certificate: " + e.getMessage(), e);
    }
  }

  private static String localName() {
    try {
      return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
    } catch (IOException e) {
      return "localhost";
    }
  }

  private static X509Certificate readCertificate(Path crt) throws IOException {
    try (Reader in = Files.newBufferedReader(crt, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(in)) {
      Object o = parser.readObject();
      if (o instanceof X509CertificateHolder holder) {
        return new JcaX509CertificateConverter().getCertificate(holder);
      }
      throw new IOException(
          crt
              + " holds no PEM certificate (fix: a BEGIN CERTIFICATE block, or remove it and"
              + " server.key to generate a self-signed pair)");
    } catch (GeneralSecurityException e) {
      throw new IOException(crt + " holds a certificate Java cannot read: " + e.getMessage(), e);
    }
  }

  /** The first line of a private key sealed under the keyring (see {@link #sealedIfKeyring}). */
  static final String SEALED_BEGIN = "-----BEGIN CFN SEALED PRIVATE KEY-----";

  private static final String SEALED_END = "-----END CFN SEALED PRIVATE KEY-----";

  /**
   * The private key's PEM as written to {@code server.key}: with a keyring (the one beside {@code
   * .cfn}, see cfn-store's {@code AtRest}), sealed with AES-256-GCM under the data key of store
   * {@code tls} and written between {@value #SEALED_BEGIN} lines; as is without one.
   */
  private static String sealedIfKeyring(Path pem, String text) throws IOException {
    try (AtRest keys = AtRest.beside(pem, "tls")) {
      if (!keys.sealing()) {
        return text;
      }
      byte[] plain = text.getBytes(StandardCharsets.US_ASCII);
      try {
        byte[] sealed = keys.seal(plain, AtRest.aad("tls private key"));
        return SEALED_BEGIN
            + "\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(sealed)
            + "\n"
            + SEALED_END
            + "\n";
      } finally {
        Arrays.fill(plain, (byte) 0);
      }
    } catch (KeyringException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /** The text of a PEM file, which is ASCII; a file that is not is refused naming its bad byte. */
  private static String pemText(Path pem) throws IOException {
    try {
      return dev.cfn.core.io.TextFile.read(pem, StandardCharsets.US_ASCII);
    } catch (dev.cfn.core.io.TextFile.NotTextException e) {
      throw new IOException(pem + " is not a PEM file: " + e.getMessage(), e);
    }
  }

  private static PrivateKey readKey(Path pem) throws IOException {
    String text = pemText(pem);
    if (!text.startsWith(SEALED_BEGIN)) {
      return parseKey(pem, new java.io.StringReader(text));
    }
    String body =
        text.substring(
            SEALED_BEGIN.length(), Math.max(SEALED_BEGIN.length(), text.indexOf(SEALED_END)));
    byte[] plain;
    try (AtRest keys = AtRest.beside(pem, "tls")) {
      if (!keys.sealing()) {
        throw new IOException(
            pem
                + " is sealed under the keyring, and no keyring is configured (fix: set "
                + Keyring.MASTER_KEY_ENV
                + " to the master key, or put back .cfn/keys from your backup; or remove "
                + pem
                + " and its certificate so that cfn serve generates a new pair)");
      }
      plain =
          keys.openSealed(
              Base64.getMimeDecoder().decode(body),
              AtRest.aad("tls private key"),
              () -> pem.toString());
    } catch (KeyringException | IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    try {
      return parseKey(
          pem,
          new java.io.InputStreamReader(
              new java.io.ByteArrayInputStream(plain), StandardCharsets.US_ASCII));
    } finally {
      Arrays.fill(plain, (byte) 0); // the key's only plain copy this code holds
    }
  }

  private static PrivateKey parseKey(Path pem, Reader in) throws IOException {
    try (PEMParser parser = new PEMParser(in)) {
      Object o = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      if (o instanceof org.bouncycastle.asn1.pkcs.PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new IOException(
          pem + " holds no unencrypted PEM private key (fix: a BEGIN PRIVATE KEY block)");
    }
  }

  private static String pemOf(Object o) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(text)) {
      if (o instanceof org.bouncycastle.util.io.pem.PemObjectGenerator g) {
        w.writeObject(g);
      } else {
        w.writeObject(o);
      }
    }
    return text.toString();
  }

  private static void write(Path file, String text) throws IOException {
    PrivateFiles.createFileIfMissing(file); // 0600 from creation on
    try (Writer w =
        Files.newBufferedWriter(
            file,
            StandardCharsets.US_ASCII,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      w.write(text);
    }
  }
}
