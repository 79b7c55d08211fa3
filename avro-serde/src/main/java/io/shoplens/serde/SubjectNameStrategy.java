package io.shoplens.serde;

import org.apache.avro.Schema;

/**
 * Names the registry subject a record's schema is registered under, as Confluent's {@code
 * key.subject.name.strategy} / {@code value.subject.name.strategy} do.
 *
 * <p>Implementations need a public no-argument constructor to be named in configuration.
 */
public interface SubjectNameStrategy {

  /**
   * @param topic the topic the record is written to or read from
   * @param isKey whether the record is a key
   * @param schema the record's schema; null when a deserializer asks before it knows it
   * @return the subject, or null when it cannot be named without the schema
   */
  String subjectName(String topic, boolean isKey, Schema schema);

  /** Whether {@link #subjectName} depends on the schema (false: known from the topic alone). */
  default boolean usesSchema() {
    return true;
  }
}
