package io.shoplens.registry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaIncompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * An in-memory Schema Registry that behaves like Confluent's for the calls of {@link
 * SchemaRegistryClient}: ids are registry-wide and start at 1, the same schema text gets the same
 * id in every subject, versions count from 1 per subject, and registering enforces the subject's
 * compatibility level ({@link CompatibilityLevel#BACKWARD} unless set) with Avro's {@link
 * SchemaCompatibility}. Errors are the same exceptions, statuses and error codes the REST client
 * raises, so that code under test takes the same branches.
 *
 * <p>Schemas are identified by their full JSON text ({@link Schema#toString()}), as Confluent's
 * registry does without normalization. Each schema also gets a random GUID, for the record-header
 * variant of the wire format. Thread-safe. Obtain a shared one with {@link
 * MockSchemaRegistry#getClientForScope(String)}, or construct a private one.
 */
public final class MockSchemaRegistryClient implements SchemaRegistryClient {

  private record Stored(int id, String guid, Schema schema) {}

  private final Map<String, Stored> byText = new HashMap<>();
  private final Map<Integer, Stored> byId = new HashMap<>();
  private final Map<String, Stored> byGuid = new HashMap<>();
  // Subject -> schema ids in version order (version = index + 1).
  private final Map<String, List<Integer>> subjects = new LinkedHashMap<>();
  private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
  private CompatibilityLevel globalLevel = CompatibilityLevel.DEFAULT;
  private int nextId = 1;

  @Override
  public synchronized int register(String subject, Schema schema) throws RestClientException {
    List<Integer> versions = subjects.get(subject);
    Stored existing = byText.get(schema.toString());
    if (versions != null && existing != null && versions.contains(existing.id())) {
      return existing.id();
    }
    List<String> problems = incompatibilities(subject, schema);
    if (!problems.isEmpty()) {
      throw new IncompatibleSchemaException(
          "Schema being registered is incompatible with an earlier schema for subject \""
              + subject
              + "\" ("
              + level(subject)
              + "), details: "
              + problems,
          409,
          IncompatibleSchemaException.ERROR_CODE);
    }
    Stored stored = existing != null ? existing : store(schema);
    subjects.computeIfAbsent(subject, s -> new ArrayList<>()).add(stored.id());
    return stored.id();
  }

  private Stored store(Schema schema) {
    Stored stored = new Stored(nextId++, UUID.randomUUID().toString(), schema);
    byText.put(schema.toString(), stored);
    byId.put(stored.id(), stored);
    byGuid.put(stored.guid(), stored);
    return stored;
  }

  @Override
  public synchronized int getId(String subject, Schema schema) throws RestClientException {
    return findInSubject(subject, schema).id();
  }

  @Override
  public synchronized int getVersion(String subject, Schema schema) throws RestClientException {
    Stored stored = findInSubject(subject, schema);
    return subjects.get(subject).indexOf(stored.id()) + 1;
  }

  private Stored findInSubject(String subject, Schema schema) throws RestClientException {
    List<Integer> versions = versions(subject);
    Stored stored = byText.get(schema.toString());
    if (stored == null || !versions.contains(stored.id())) {
      throw new SchemaNotFoundException(
          "Schema not found under subject '" + subject + "'",
          404,
          SchemaNotFoundException.ERROR_CODE);
    }
    return stored;
  }

  @Override
  public synchronized Schema getSchemaBySubjectAndId(String subject, int id)
      throws RestClientException {
    Stored stored = byId.get(id);
    if (stored == null) {
      throw new SchemaNotFoundException(
          "Schema " + id + " not found", 404, SchemaNotFoundException.ERROR_CODE);
    }
    return stored.schema();
  }

  @Override
  public synchronized Schema getSchemaByGuid(String guid) throws RestClientException {
    Stored stored = byGuid.get(guid);
    if (stored == null) {
      throw new SchemaNotFoundException(
          "Schema " + guid + " not found", 404, SchemaNotFoundException.ERROR_CODE);
    }
    return stored.schema();
  }

  /**
   * The GUID this registry gave schema {@code id}, as a record header would carry it.
   *
   * @throws SchemaNotFoundException when no schema has this id
   */
  public synchronized String getGuid(int id) throws RestClientException {
    Stored stored = byId.get(id);
    if (stored == null) {
      throw new SchemaNotFoundException(
          "Schema " + id + " not found", 404, SchemaNotFoundException.ERROR_CODE);
    }
    return stored.guid();
  }

  @Override
  public synchronized SchemaMetadata getLatestSchemaMetadata(String subject)
      throws RestClientException {
    List<Integer> versions = versions(subject);
    return metadata(subject, versions.size());
  }

  @Override
  public synchronized SchemaMetadata getSchemaMetadata(String subject, int version)
      throws RestClientException {
    List<Integer> versions = versions(subject);
    if (version < 1 || version > versions.size()) {
      throw new VersionNotFoundException(
          "Version " + version + " not found for subject '" + subject + "'",
          404,
          VersionNotFoundException.ERROR_CODE);
    }
    return metadata(subject, version);
  }

  private SchemaMetadata metadata(String subject, int version) {
    Stored stored = byId.get(subjects.get(subject).get(version - 1));
    return new SchemaMetadata(subject, version, stored.id(), stored.schema().toString());
  }

  @Override
  public synchronized List<Integer> getAllVersions(String subject) throws RestClientException {
    int n = versions(subject).size();
    List<Integer> out = new ArrayList<>(n);
    for (int v = 1; v <= n; v++) {
      out.add(v);
    }
    return out;
  }

  @Override
  public synchronized Collection<String> getAllSubjects() {
    return List.copyOf(subjects.keySet());
  }

  @Override
  public synchronized boolean testCompatibility(String subject, Schema schema) {
    return incompatibilities(subject, schema).isEmpty();
  }

  @Override
  public synchronized CompatibilityLevel getCompatibility(String subject) {
    return subject == null ? globalLevel : level(subject);
  }

  @Override
  public synchronized CompatibilityLevel updateCompatibility(
      String subject, CompatibilityLevel level) {
    if (subject == null) {
      globalLevel = level;
    } else {
      subjectLevels.put(subject, level);
    }
    return level;
  }

  @Override
  public synchronized List<Integer> deleteSubject(String subject) throws RestClientException {
    List<Integer> deleted = getAllVersions(subject);
    subjects.remove(subject);
    return deleted;
  }

  @Override
  public String toString() {
    return "MockSchemaRegistryClient";
  }

  private List<Integer> versions(String subject) throws SubjectNotFoundException {
    List<Integer> versions = subjects.get(subject);
    if (versions == null) {
      throw new SubjectNotFoundException(
          "Subject '" + subject + "' not found", 404, SubjectNotFoundException.ERROR_CODE);
    }
    return versions;
  }

  private CompatibilityLevel level(String subject) {
    return subjectLevels.getOrDefault(subject, globalLevel);
  }

  /** Why {@code candidate} may not join {@code subject}; empty when it may. */
  private List<String> incompatibilities(String subject, Schema candidate) {
    CompatibilityLevel level = level(subject);
    List<Integer> versions = subjects.get(subject);
    List<String> problems = new ArrayList<>();
    if (level == CompatibilityLevel.NONE || versions == null || versions.isEmpty()) {
      return problems;
    }
    List<Integer> toCheck =
        level.isTransitive() ? versions : List.of(versions.get(versions.size() - 1));
    for (int id : toCheck) {
      Schema earlier = byId.get(id).schema();
      if (level.checksBackward()) {
        describe(
            SchemaCompatibility.checkReaderWriterCompatibility(candidate, earlier),
            "new schema cannot read data written with schema id " + id,
            problems);
      }
      if (level.checksForward()) {
        describe(
            SchemaCompatibility.checkReaderWriterCompatibility(earlier, candidate),
            "schema id " + id + " cannot read data written with the new schema",
            problems);
      }
    }
    return problems;
  }

  private static void describe(SchemaPairCompatibility result, String what, List<String> out) {
    if (result.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      return;
    }
    for (var incompatibility : result.getResult().getIncompatibilities()) {
      SchemaIncompatibilityType type = incompatibility.getType();
      out.add(
          what
              + ": "
              + type
              + " at "
              + incompatibility.getLocation()
              + " ("
              + incompatibility.getMessage()
              + ")");
    }
    if (result.getResult().getIncompatibilities().isEmpty()) {
      out.add(what + ": " + result.getDescription());
    }
  }
}
