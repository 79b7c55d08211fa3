package io.shoplens.registry;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/** Picks the client that {@code schema.registry.url} asks for. */
public final class SchemaRegistryClientFactory {
  private SchemaRegistryClientFactory() {}

  /**
   * The shared in-memory registry of the scope for a single {@code mock://<scope>} URL, otherwise a
   * new {@link CachedSchemaRegistryClient}.
   *
   * @throws ConfigException when the URL list is missing, mixes mock and real URLs, or names two
   *     mock scopes
   */
  public static SchemaRegistryClient create(Map<String, ?> configs) {
    SchemaRegistryClientConfig config = new SchemaRegistryClientConfig(configs);
    List<String> urls = config.urls();
    long mocks = urls.stream().filter(MockSchemaRegistry::isMockUrl).count();
    if (mocks == 0) {
      return new CachedSchemaRegistryClient(config);
    }
    if (mocks > 1 || urls.size() > 1) {
      throw new ConfigException(
          SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG
              + " may hold one mock:// URL alone, not "
              + RestService.redact(urls.toString()));
    }
    return MockSchemaRegistry.getClientForScope(MockSchemaRegistry.scopeOf(urls.get(0)));
  }
}
