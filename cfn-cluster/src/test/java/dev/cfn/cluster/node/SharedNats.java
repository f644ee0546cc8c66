package dev.cfn.cluster.node;

import dev.cfn.cluster.nats.TestNats;
import io.nats.client.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The NATS server a node test class shares, and what one test opened, closed after it: a JUnit
 * extension registered on an instance field, so that each test has its own.
 *
 * <pre>{@code
 * @RegisterExtension final SharedNats shared = new SharedNats("ag");
 * ...
 * ClusterNode.builder(shared.closeLater(PgJournal.builder(url).open()), shared.connect(), "a")
 *     .namespace(shared.namespace())...
 * }</pre>
 *
 * <p>Safe should test classes or methods run in parallel: the server ({@link TestNats#single()}) is
 * started once per test class, on first use, by {@code computeIfAbsent} on the class's {@link
 * ExtensionContext.Store} (atomic; JUnit closes the server, and the class's shared {@link
 * #connection()}, when the class's tests are done); everything else belongs to one test instance
 * (JUnit makes one per test method), and {@link #namespace()} draws from one atomic counter, so no
 * two tests share a namespace, streams or subjects.
 */
final class SharedNats implements BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(SharedNats.class);
  private static final AtomicInteger NAMESPACES = new AtomicInteger();

  private final String prefix;
  private final List<AutoCloseable> open = new ArrayList<>();
  private ExtensionContext.Store classStore;

  /** Namespaces of this test's nodes start with {@code prefix} ({@code [a-z0-9-]}). */
  SharedNats(String prefix) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    classStore = context.getParent().orElseThrow().getStore(STORE);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Exception first = null;
    for (AutoCloseable c : open.reversed()) {
      try {
        c.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    open.clear();
    if (first != null) {
      throw first;
    }
  }

  /** The test class's NATS server (one JetStream server), started on first use. */
  TestNats nats() {
    if (classStore == null) {
      throw new IllegalStateException("SharedNats is used outside a test (register it on a field)");
    }
    return classStore.computeIfAbsent(
        TestNats.class,
        k -> {
          try {
            return TestNats.single();
          } catch (Exception e) {
            throw new IllegalStateException("the test NATS server did not start: " + e, e);
          }
        },
        TestNats.class);
  }

  /** A connection of the test class's own, shared by its tests; closed after them. */
  Connection connection() {
    TestNats server = nats();
    return classStore.computeIfAbsent(
        Connection.class,
        k -> {
          try {
            return server.connect();
          } catch (Exception e) {
            throw new IllegalStateException("cannot connect to the test NATS server: " + e, e);
          }
        },
        Connection.class);
  }

  /** A new connection to the test class's server, closed after this test. */
  Connection connect() throws Exception {
    return closeLater(nats().connect());
  }

  /** A namespace no other test uses: the prefix and a number. */
  String namespace() {
    return prefix + NAMESPACES.incrementAndGet();
  }

  /** Closes {@code c} after this test, in the reverse order of these calls; returns it. */
  <T extends AutoCloseable> T closeLater(T c) {
    open.add(Objects.requireNonNull(c, "c"));
    return c;
  }
}
