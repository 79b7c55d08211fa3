/**
 * A Confluent-compatible Schema Registry client: the REST client ({@link
 * io.shoplens.registry.CachedSchemaRegistryClient}), an in-memory registry for {@code mock://} URLs
 * ({@link io.shoplens.registry.MockSchemaRegistry}) and the factory that picks one from {@code
 * schema.registry.url} ({@link io.shoplens.registry.SchemaRegistryClientFactory}).
 *
 * <p>Confluent's own Java client is not published to Maven Central, so this package speaks the same
 * REST API and accepts the same configuration names.
 */
package io.shoplens.registry;
