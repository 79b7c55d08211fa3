package io.shoplens.registry;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The in-memory registries behind {@code mock://<scope>} URLs: one per scope, shared by every
 * client of that scope in this JVM, so that a test's serializer and deserializer (or the embedded
 * demo's producers and Streams app) see the same ids. A scope lives until {@link #dropScope}.
 */
public final class MockSchemaRegistry {
  /** The URL scheme that selects an in-memory registry. */
  public static final String MOCK_URL_PREFIX = "mock://";

  private static final ConcurrentMap<String, MockSchemaRegistryClient> SCOPES =
      new ConcurrentHashMap<>();

  private MockSchemaRegistry() {}

  /** The registry of {@code scope}, created empty (ids from 1) on first use. */
  public static MockSchemaRegistryClient getClientForScope(String scope) {
    return SCOPES.computeIfAbsent(scope, s -> new MockSchemaRegistryClient());
  }

  /** Forgets the registry of {@code scope}; the next use starts empty again. */
  public static void dropScope(String scope) {
    SCOPES.remove(scope);
  }

  /** Whether {@code url} is a {@code mock://} URL. */
  public static boolean isMockUrl(String url) {
    return url != null && url.trim().startsWith(MOCK_URL_PREFIX);
  }

  /** The scope of a {@code mock://scope} URL. */
  public static String scopeOf(String url) {
    String scope = url.trim().substring(MOCK_URL_PREFIX.length());
    while (scope.endsWith("/")) {
      scope = scope.substring(0, scope.length() - 1);
    }
    return scope;
  }
}
