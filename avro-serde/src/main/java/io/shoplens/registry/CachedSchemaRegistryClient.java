package io.shoplens.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The REST client for Confluent's Schema Registry, over {@link java.net.http.HttpClient}, with
 * bounded LRU caches of id -> schema and (subject, schema) -> id / version.
 *
 * <p>Retries I/O errors and HTTP 408, 429, 500, 502, 503, 504 with exponential backoff and jitter
 * ({@code max.retries}, {@code retries.wait.ms}, {@code retries.max.wait.ms}), then fails over to
 * the next URL of {@code schema.registry.url}. Authenticates with HTTP basic (from the URL or
 * {@code basic.auth.user.info}) or a static bearer token. See {@link SchemaRegistryClientConfig}.
 *
 * <p>Lookups of the latest version, of compatibility and of config are not cached: they change on
 * the registry.
 */
public final class CachedSchemaRegistryClient implements SchemaRegistryClient {

  private record SubjectSchema(String subject, String schema) {}

  private final RestService rest;
  private final LruCache<Integer, Schema> schemaById;
  private final LruCache<String, Schema> schemaByGuid;
  private final LruCache<SubjectSchema, Integer> idBySubjectSchema;
  private final LruCache<SubjectSchema, Integer> versionBySubjectSchema;

  /**
   * @param configs client settings ({@link SchemaRegistryClientConfig}); the URLs must be http(s)
   * @throws org.apache.kafka.common.config.ConfigException when a setting is invalid
   */
  public CachedSchemaRegistryClient(Map<String, ?> configs) {
    this(new SchemaRegistryClientConfig(configs));
  }

  /**
   * Confluent's constructor shape.
   *
   * @param baseUrls comma-separated registry URLs
   * @param cacheCapacity capacity of each cache
   */
  public CachedSchemaRegistryClient(String baseUrls, int cacheCapacity) {
    this(
        Map.of(
            SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
            baseUrls,
            SchemaRegistryClientConfig.MAX_SCHEMAS_PER_SUBJECT_CONFIG,
            cacheCapacity));
  }

  CachedSchemaRegistryClient(SchemaRegistryClientConfig config) {
    this(
        new RestService(config),
        config.getInt(SchemaRegistryClientConfig.MAX_SCHEMAS_PER_SUBJECT_CONFIG));
  }

  CachedSchemaRegistryClient(RestService rest, int cacheCapacity) {
    this.rest = rest;
    this.schemaById = new LruCache<>(cacheCapacity);
    this.schemaByGuid = new LruCache<>(cacheCapacity);
    this.idBySubjectSchema = new LruCache<>(cacheCapacity);
    this.versionBySubjectSchema = new LruCache<>(cacheCapacity);
  }

  @Override
  public int register(String subject, Schema schema) throws IOException, RestClientException {
    SubjectSchema key = new SubjectSchema(subject, schema.toString());
    Integer cached = idBySubjectSchema.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode response =
        rest.send("POST", "/subjects/" + RestService.encode(subject) + "/versions", body(schema));
    int id = requireInt(response, "id");
    idBySubjectSchema.put(key, id);
    schemaById.put(id, schema);
    return id;
  }

  @Override
  public int getId(String subject, Schema schema) throws IOException, RestClientException {
    SubjectSchema key = new SubjectSchema(subject, schema.toString());
    Integer cached = idBySubjectSchema.get(key);
    if (cached != null) {
      return cached;
    }
    return lookup(subject, schema, key).get("id").asInt();
  }

  @Override
  public int getVersion(String subject, Schema schema) throws IOException, RestClientException {
    SubjectSchema key = new SubjectSchema(subject, schema.toString());
    Integer cached = versionBySubjectSchema.get(key);
    if (cached != null) {
      return cached;
    }
    return lookup(subject, schema, key).get("version").asInt();
  }

  private JsonNode lookup(String subject, Schema schema, SubjectSchema key)
      throws IOException, RestClientException {
    JsonNode response = rest.send("POST", "/subjects/" + RestService.encode(subject), body(schema));
    int id = requireInt(response, "id");
    int version = requireInt(response, "version");
    idBySubjectSchema.put(key, id);
    versionBySubjectSchema.put(key, version);
    schemaById.put(id, schema);
    return response;
  }

  @Override
  public Schema getSchemaBySubjectAndId(String subject, int id)
      throws IOException, RestClientException {
    Schema cached = schemaById.get(id);
    if (cached != null) {
      return cached;
    }
    String path = "/schemas/ids/" + id;
    if (subject != null) {
      path += "?subject=" + RestService.encode(subject);
    }
    Schema schema = parseSchema(rest.send("GET", path, null), "schema id " + id);
    schemaById.put(id, schema);
    return schema;
  }

  @Override
  public Schema getSchemaByGuid(String guid) throws IOException, RestClientException {
    Schema cached = schemaByGuid.get(guid);
    if (cached != null) {
      return cached;
    }
    Schema schema =
        parseSchema(
            rest.send("GET", "/schemas/guids/" + RestService.encode(guid), null),
            "schema guid " + guid);
    schemaByGuid.put(guid, schema);
    return schema;
  }

  @Override
  public SchemaMetadata getLatestSchemaMetadata(String subject)
      throws IOException, RestClientException {
    return metadata(
        rest.send("GET", "/subjects/" + RestService.encode(subject) + "/versions/latest", null));
  }

  @Override
  public SchemaMetadata getSchemaMetadata(String subject, int version)
      throws IOException, RestClientException {
    return metadata(
        rest.send(
            "GET", "/subjects/" + RestService.encode(subject) + "/versions/" + version, null));
  }

  @Override
  public List<Integer> getAllVersions(String subject) throws IOException, RestClientException {
    return ints(rest.send("GET", "/subjects/" + RestService.encode(subject) + "/versions", null));
  }

  @Override
  public Collection<String> getAllSubjects() throws IOException, RestClientException {
    List<String> subjects = new ArrayList<>();
    rest.send("GET", "/subjects", null).forEach(n -> subjects.add(n.asText()));
    return subjects;
  }

  @Override
  public boolean testCompatibility(String subject, Schema schema)
      throws IOException, RestClientException {
    try {
      JsonNode response =
          rest.send(
              "POST",
              "/compatibility/subjects/" + RestService.encode(subject) + "/versions/latest",
              body(schema));
      return response.path("is_compatible").asBoolean(false);
    } catch (SubjectNotFoundException | VersionNotFoundException e) {
      // Older registries answer 404 for a subject without versions; newer ones say compatible.
      return true;
    }
  }

  @Override
  public CompatibilityLevel getCompatibility(String subject)
      throws IOException, RestClientException {
    String path =
        subject == null
            ? "/config"
            : "/config/" + RestService.encode(subject) + "?defaultToGlobal=true";
    return level(rest.send("GET", path, null));
  }

  @Override
  public CompatibilityLevel updateCompatibility(String subject, CompatibilityLevel level)
      throws IOException, RestClientException {
    String path = subject == null ? "/config" : "/config/" + RestService.encode(subject);
    ObjectNode body = RestService.JSON.createObjectNode().put("compatibility", level.name());
    return level(rest.send("PUT", path, body.toString()));
  }

  @Override
  public List<Integer> deleteSubject(String subject) throws IOException, RestClientException {
    List<Integer> deleted =
        ints(rest.send("DELETE", "/subjects/" + RestService.encode(subject), null));
    idBySubjectSchema.removeIf(k -> k.subject().equals(subject));
    versionBySubjectSchema.removeIf(k -> k.subject().equals(subject));
    return deleted;
  }

  /** The URLs in use, without credentials, and the kind of authentication; never a secret. */
  @Override
  public String toString() {
    return "CachedSchemaRegistryClient{urls="
        + rest.urls()
        + ", auth="
        + rest.authDescription()
        + ", cacheCapacity="
        + schemaById.capacity()
        + "}";
  }

  /** Entries in the id -> schema cache; for tests. */
  int cachedSchemaCount() {
    return schemaById.size();
  }

  private static String body(Schema schema) {
    // The registry's default type is AVRO, so like Confluent's client we omit "schemaType".
    return RestService.JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  private static int requireInt(JsonNode response, String field) throws RestClientException {
    JsonNode value = response.get(field);
    if (value == null || !value.canConvertToInt()) {
      throw new RestClientException(
          "Registry response lacks an integer '" + field + "': " + abbreviate(response),
          200,
          50005);
    }
    return value.asInt();
  }

  private static Schema parseSchema(JsonNode response, String what) throws RestClientException {
    String type = response.path("schemaType").asText("AVRO");
    if (!"AVRO".equals(type)) {
      throw new InvalidSchemaException(
          what + " is a " + type + " schema; only AVRO is supported", 200, 42201);
    }
    JsonNode text = response.get("schema");
    if (text == null || !text.isTextual()) {
      throw new RestClientException(
          "Registry response for " + what + " lacks 'schema': " + abbreviate(response), 200, 50005);
    }
    try {
      return new Schema.Parser().parse(text.asText());
    } catch (SchemaParseException e) {
      throw new InvalidSchemaException(
          what + " is not a valid Avro schema: " + e.getMessage(), 200, 42201);
    }
  }

  private static SchemaMetadata metadata(JsonNode n) throws RestClientException {
    return new SchemaMetadata(
        n.path("subject").asText(),
        requireInt(n, "version"),
        requireInt(n, "id"),
        n.path("schema").asText());
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    return out;
  }

  private static CompatibilityLevel level(JsonNode n) throws RestClientException {
    // GET answers "compatibilityLevel", PUT echoes "compatibility".
    String value =
        n.hasNonNull("compatibilityLevel")
            ? n.get("compatibilityLevel").asText()
            : n.path("compatibility").asText(null);
    if (value == null) {
      throw new RestClientException(
          "Registry config response lacks a compatibility level: " + abbreviate(n), 200, 50005);
    }
    return CompatibilityLevel.parse(value);
  }

  private static String abbreviate(JsonNode n) {
    String s = String.valueOf(n);
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
