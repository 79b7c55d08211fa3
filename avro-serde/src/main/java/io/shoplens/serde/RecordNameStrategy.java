package io.shoplens.serde;

import org.apache.avro.Schema;

/** The schema's full name: one lineage per record type, across topics. */
public final class RecordNameStrategy implements SubjectNameStrategy {
  @Override
  public String subjectName(String topic, boolean isKey, Schema schema) {
    return schema == null ? null : schema.getFullName();
  }
}
