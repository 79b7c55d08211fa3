package io.shoplens.serde;

import org.apache.avro.Schema;

/** {@code <topic>-<schema full name>}: one lineage per record type per topic. */
public final class TopicRecordNameStrategy implements SubjectNameStrategy {
  @Override
  public String subjectName(String topic, boolean isKey, Schema schema) {
    return schema == null ? null : topic + "-" + schema.getFullName();
  }
}
