package io.shoplens.registry;

import java.util.Objects;
import org.apache.avro.Schema;

/**
 * One version of a subject: what {@code GET /subjects/{s}/versions/{v}} answers.
 *
 * @param subject the subject
 * @param version the version within the subject, from 1
 * @param id the registry-wide schema id
 * @param schema the schema text as the registry stores it
 */
public record SchemaMetadata(String subject, int version, int id, String schema) {
  public SchemaMetadata {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(schema, "schema");
  }

  /** Parses {@link #schema()} as Avro. */
  public Schema avroSchema() {
    return new Schema.Parser().parse(schema);
  }
}
