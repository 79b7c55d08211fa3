package io.shoplens.registry;

import java.io.Closeable;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The Schema Registry operations the serdes and tools need, named after Confluent's {@code
 * SchemaRegistryClient} (Avro schemas only).
 *
 * <p>Every method throws {@link RestClientException} (or one of its subclasses) when the registry
 * answers with an error, and {@link IOException} when it cannot be reached; a REST client throws
 * {@link SchemaRegistryUnavailableException} once its retries and fail-over are spent.
 * Implementations are thread-safe.
 */
public interface SchemaRegistryClient extends Closeable {

  /**
   * Registers {@code schema} under {@code subject} ({@code POST /subjects/{s}/versions}), or finds
   * it when it is already there.
   *
   * @return the registry-wide id of the schema
   * @throws IncompatibleSchemaException when the subject's compatibility level rejects it
   * @throws InvalidSchemaException when the registry cannot parse it
   */
  int register(String subject, Schema schema) throws IOException, RestClientException;

  /**
   * Looks up the id of a schema already registered under {@code subject} ({@code POST
   * /subjects/{s}}); registers nothing.
   *
   * @throws SubjectNotFoundException when the subject does not exist
   * @throws SchemaNotFoundException when the schema is not registered under the subject
   */
  int getId(String subject, Schema schema) throws IOException, RestClientException;

  /**
   * Looks up the version of a schema already registered under {@code subject} ({@code POST
   * /subjects/{s}}).
   */
  int getVersion(String subject, Schema schema) throws IOException, RestClientException;

  /**
   * The schema with this id ({@code GET /schemas/ids/{id}}).
   *
   * @throws SchemaNotFoundException when no schema has this id
   */
  default Schema getSchemaById(int id) throws IOException, RestClientException {
    return getSchemaBySubjectAndId(null, id);
  }

  /**
   * The schema with this id ({@code GET /schemas/ids/{id}?subject=s}); the subject, when not null,
   * tells a registry with schema contexts where to look.
   */
  Schema getSchemaBySubjectAndId(String subject, int id) throws IOException, RestClientException;

  /**
   * The schema with this GUID ({@code GET /schemas/guids/{guid}}), as carried by the {@code
   * __value_schema_id} / {@code __key_schema_id} record headers.
   */
  Schema getSchemaByGuid(String guid) throws IOException, RestClientException;

  /** The latest version of a subject ({@code GET /subjects/{s}/versions/latest}). */
  SchemaMetadata getLatestSchemaMetadata(String subject) throws IOException, RestClientException;

  /** One version of a subject ({@code GET /subjects/{s}/versions/{v}}). */
  SchemaMetadata getSchemaMetadata(String subject, int version)
      throws IOException, RestClientException;

  /** The versions of a subject, oldest first ({@code GET /subjects/{s}/versions}). */
  List<Integer> getAllVersions(String subject) throws IOException, RestClientException;

  /** Every subject ({@code GET /subjects}). */
  Collection<String> getAllSubjects() throws IOException, RestClientException;

  /**
   * Whether {@code schema} could be registered under {@code subject} now, by the subject's
   * compatibility level ({@code POST /compatibility/subjects/{s}/versions/latest}). A subject that
   * does not exist accepts any valid schema.
   */
  boolean testCompatibility(String subject, Schema schema) throws IOException, RestClientException;

  /**
   * The compatibility level that applies to {@code subject} (its own, else the global one), or the
   * global level when {@code subject} is null ({@code GET /config/{s}}, {@code GET /config}).
   */
  CompatibilityLevel getCompatibility(String subject) throws IOException, RestClientException;

  /**
   * Sets the compatibility level of {@code subject}, or the global level when {@code subject} is
   * null ({@code PUT /config/{s}}, {@code PUT /config}).
   *
   * @return the level now in force
   */
  CompatibilityLevel updateCompatibility(String subject, CompatibilityLevel level)
      throws IOException, RestClientException;

  /**
   * Deletes a subject ({@code DELETE /subjects/{s}}); its schema ids stay readable.
   *
   * @return the versions deleted
   */
  List<Integer> deleteSubject(String subject) throws IOException, RestClientException;

  /** Releases what the client holds; a closed client must not be used again. */
  @Override
  default void close() throws IOException {}
}
