package io.shoplens.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

class CachedSchemaRegistryClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Schema SCHEMA =
      SchemaBuilder.record("Order")
          .namespace("io.shoplens.test")
          .fields()
          .requiredString("id")
          .requiredLong("amount")
          .endRecord();
  private static final String SECRET = "s3cr3t-P4ss";
  private static final String TOKEN = "tok-9f8e7d6c5b4a";

  private final List<FakeRegistryServer> servers = new ArrayList<>();
  private final List<Long> sleeps = new ArrayList<>();
  private ListAppender<ILoggingEvent> logs;

  @BeforeEach
  void captureLogs() {
    Logger logger = (Logger) LoggerFactory.getLogger("io.shoplens.registry");
    logger.setLevel(Level.DEBUG);
    logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    ((Logger) LoggerFactory.getLogger("io.shoplens.registry")).detachAppender(logs);
    servers.forEach(FakeRegistryServer::close);
  }

  private FakeRegistryServer server() throws Exception {
    FakeRegistryServer server = new FakeRegistryServer();
    servers.add(server);
    return server;
  }

  /** A client whose backoff is recorded, not slept, and whose jitter is the midpoint. */
  private CachedSchemaRegistryClient client(Map<String, Object> settings) {
    Map<String, Object> all = new HashMap<>();
    all.put(SchemaRegistryClientConfig.RETRIES_WAIT_MS_CONFIG, 100L);
    all.put(SchemaRegistryClientConfig.RETRIES_MAX_WAIT_MS_CONFIG, 1000L);
    all.put(SchemaRegistryClientConfig.HTTP_CONNECT_TIMEOUT_MS_CONFIG, 2000);
    all.put(SchemaRegistryClientConfig.HTTP_READ_TIMEOUT_MS_CONFIG, 5000);
    all.putAll(settings);
    SchemaRegistryClientConfig config = new SchemaRegistryClientConfig(all);
    return new CachedSchemaRegistryClient(
        new RestService(config, sleeps::add, bound -> bound / 2),
        config.getInt(SchemaRegistryClientConfig.MAX_SCHEMAS_PER_SUBJECT_CONFIG));
  }

  private CachedSchemaRegistryClient client(String urls) {
    return client(Map.of(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, urls));
  }

  private static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  @Test
  void shouldRegisterWithConfluentPathBodyAndHeaders() throws Exception {
    // Given
    FakeRegistryServer server = server().respond(200, "{\"id\":42}");
    CachedSchemaRegistryClient client = client(server.url());

    // When
    int id = client.register("orders-value", SCHEMA);

    // Then
    assertThat(id).isEqualTo(42);
    FakeRegistryServer.Request request = server.onlyRequest();
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.pathAndQuery()).isEqualTo("/subjects/orders-value/versions");
    assertThat(request.header("Content-Type")).isEqualTo("application/vnd.schemaregistry.v1+json");
    assertThat(request.header("Accept")).startsWith("application/vnd.schemaregistry.v1+json");
    assertThat(request.header("Authorization")).isNull();
    assertThat(json(request.body()))
        .isEqualTo(json("{\"schema\":" + JSON.writeValueAsString(SCHEMA.toString()) + "}"));
  }

  @Test
  void shouldServeRepeatedRegistrationAndItsSchemaFromCache() throws Exception {
    // Given
    FakeRegistryServer server = server().respond(200, "{\"id\":42}");
    CachedSchemaRegistryClient client = client(server.url());
    client.register("orders-value", SCHEMA);

    // When
    int again = client.register("orders-value", SCHEMA);
    Schema byId = client.getSchemaById(42);

    // Then
    assertThat(again).isEqualTo(42);
    assertThat(byId).isEqualTo(SCHEMA);
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  void shouldLookUpIdAndVersionWithoutRegistering() throws Exception {
    // Given
    FakeRegistryServer server =
        server()
            .respond(
                200,
                "{\"subject\":\"orders-value\",\"id\":7,\"version\":3,\"schema\":"
                    + JSON.writeValueAsString(SCHEMA.toString())
                    + "}");
    CachedSchemaRegistryClient client = client(server.url());

    // When
    int id = client.getId("orders-value", SCHEMA);
    int version = client.getVersion("orders-value", SCHEMA);

    // Then
    assertThat(id).isEqualTo(7);
    assertThat(version).isEqualTo(3);
    FakeRegistryServer.Request request = server.onlyRequest();
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.pathAndQuery()).isEqualTo("/subjects/orders-value");
    assertThat(json(request.body()).get("schema").asText()).isEqualTo(SCHEMA.toString());
  }

  @Test
  void shouldFetchSchemaByIdWithSubjectAndCacheIt() throws Exception {
    // Given
    FakeRegistryServer server =
        server().respond(200, "{\"schema\":" + JSON.writeValueAsString(SCHEMA.toString()) + "}");
    CachedSchemaRegistryClient client = client(server.url());

    // When
    Schema first = client.getSchemaBySubjectAndId("orders-value", 7);
    Schema second = client.getSchemaBySubjectAndId("orders-value", 7);

    // Then
    assertThat(first).isEqualTo(SCHEMA).isSameAs(second);
    FakeRegistryServer.Request request = server.onlyRequest();
    assertThat(request.method()).isEqualTo("GET");
    assertThat(request.pathAndQuery()).isEqualTo("/schemas/ids/7?subject=orders-value");
    assertThat(request.header("Content-Type")).isNull();
  }

  @Test
  void shouldRefuseSchemaOfAnotherType() throws Exception {
    FakeRegistryServer server =
        server()
            .respond(200, "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}");
    CachedSchemaRegistryClient client = client(server.url());

    assertThatThrownBy(() -> client.getSchemaById(9))
        .isInstanceOf(InvalidSchemaException.class)
        .hasMessageContaining("PROTOBUF");
  }

  @Test
  void shouldReadSubjectVersionsAndSubjectsFromTheirPaths() throws Exception {
    // Given
    String metadata =
        "{\"subject\":\"a b\",\"id\":5,\"version\":2,\"schema\":"
            + JSON.writeValueAsString(SCHEMA.toString())
            + "}";
    FakeRegistryServer server =
        server()
            .respond(200, metadata)
            .respond(200, metadata)
            .respond(200, "[1,2]")
            .respond(200, "[\"a b\",\"orders-value\"]")
            .respond(200, "[1,2]");
    CachedSchemaRegistryClient client = client(server.url());

    // When
    SchemaMetadata latest = client.getLatestSchemaMetadata("a b");
    SchemaMetadata v2 = client.getSchemaMetadata("a b", 2);
    List<Integer> versions = client.getAllVersions("a b");
    var subjects = client.getAllSubjects();
    List<Integer> deleted = client.deleteSubject("a b");

    // Then
    assertThat(latest).isEqualTo(new SchemaMetadata("a b", 2, 5, SCHEMA.toString()));
    assertThat(latest.avroSchema()).isEqualTo(SCHEMA);
    assertThat(v2).isEqualTo(latest);
    assertThat(versions).containsExactly(1, 2);
    assertThat(subjects).containsExactly("a b", "orders-value");
    assertThat(deleted).containsExactly(1, 2);
    assertThat(server.requests())
        .extracting(r -> r.method() + " " + r.pathAndQuery())
        .containsExactly(
            "GET /subjects/a%20b/versions/latest",
            "GET /subjects/a%20b/versions/2",
            "GET /subjects/a%20b/versions",
            "GET /subjects",
            "DELETE /subjects/a%20b");
  }

  @Test
  void shouldTestCompatibilityAndReadAndUpdateSubjectConfig() throws Exception {
    // Given
    FakeRegistryServer server =
        server()
            .respond(200, "{\"is_compatible\":false}")
            .respond(200, "{\"compatibilityLevel\":\"FULL_TRANSITIVE\"}")
            .respond(200, "{\"compatibility\":\"NONE\"}")
            .respond(200, "{\"compatibilityLevel\":\"BACKWARD\"}");
    CachedSchemaRegistryClient client = client(server.url());

    // When
    boolean compatible = client.testCompatibility("orders-value", SCHEMA);
    CompatibilityLevel level = client.getCompatibility("orders-value");
    CompatibilityLevel updated =
        client.updateCompatibility("orders-value", CompatibilityLevel.NONE);
    CompatibilityLevel global = client.getCompatibility(null);

    // Then
    assertThat(compatible).isFalse();
    assertThat(level).isEqualTo(CompatibilityLevel.FULL_TRANSITIVE);
    assertThat(updated).isEqualTo(CompatibilityLevel.NONE);
    assertThat(global).isEqualTo(CompatibilityLevel.BACKWARD);
    List<FakeRegistryServer.Request> requests = server.requests();
    assertThat(requests)
        .extracting(r -> r.method() + " " + r.pathAndQuery())
        .containsExactly(
            "POST /compatibility/subjects/orders-value/versions/latest",
            "GET /config/orders-value?defaultToGlobal=true",
            "PUT /config/orders-value",
            "GET /config");
    assertThat(json(requests.get(2).body())).isEqualTo(json("{\"compatibility\":\"NONE\"}"));
    assertThat(requests.get(2).header("Content-Type"))
        .isEqualTo("application/vnd.schemaregistry.v1+json");
  }

  @Test
  void shouldTreatMissingSubjectAsCompatible() throws Exception {
    FakeRegistryServer server =
        server().respond(404, "{\"error_code\":40401,\"message\":\"Subject 'x' not found.\"}");
    assertThat(client(server.url()).testCompatibility("x", SCHEMA)).isTrue();
  }

  static Stream<Arguments> errors() {
    return Stream.of(
        Arguments.of(
            404,
            "{\"error_code\":40401,\"message\":\"Subject not found\"}",
            SubjectNotFoundException.class,
            40401),
        Arguments.of(
            404,
            "{\"error_code\":40402,\"message\":\"Version not found\"}",
            VersionNotFoundException.class,
            40402),
        Arguments.of(
            404,
            "{\"error_code\":40403,\"message\":\"Schema not found\"}",
            SchemaNotFoundException.class,
            40403),
        Arguments.of(
            409,
            "{\"error_code\":409,\"message\":\"Schema being registered is incompatible\"}",
            IncompatibleSchemaException.class,
            409),
        Arguments.of(
            409,
            "{\"error_code\":40901,\"message\":\"incompatible\"}",
            IncompatibleSchemaException.class,
            40901),
        Arguments.of(
            422,
            "{\"error_code\":42201,\"message\":\"Invalid schema\"}",
            InvalidSchemaException.class,
            42201),
        Arguments.of(
            500,
            "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}",
            SchemaRegistryServerException.class,
            50001),
        Arguments.of(401, "<html>Unauthorized</html>", RestClientException.class, 401));
  }

  @ParameterizedTest(name = "HTTP {0} {1} -> {2}")
  @MethodSource("errors")
  void shouldMapErrorBodiesToTypedExceptions(
      int status, String body, Class<? extends RestClientException> expected, int errorCode)
      throws Exception {
    // Given: no retries, so that a 500 surfaces at once
    FakeRegistryServer server = server().respond(status, body);
    CachedSchemaRegistryClient client =
        client(
            Map.of(
                SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                server.url(),
                SchemaRegistryClientConfig.MAX_RETRIES_CONFIG,
                0));

    // When / Then
    assertThatThrownBy(() -> client.register("orders-value", SCHEMA))
        .isExactlyInstanceOf(expected)
        .hasMessageContaining("HTTP " + status)
        .hasMessageContaining("/subjects/orders-value/versions")
        .satisfies(
            e -> {
              RestClientException rce = (RestClientException) e;
              assertThat(rce.status()).isEqualTo(status);
              assertThat(rce.errorCode()).isEqualTo(errorCode);
            });
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  void shouldRetryServiceUnavailableThenSucceed() throws Exception {
    // Given
    FakeRegistryServer server =
        server()
            .respond(503, "{\"error_code\":50003,\"message\":\"busy\"}")
            .respond(503, "{\"error_code\":50003,\"message\":\"busy\"}")
            .respond(200, "{\"id\":3}");
    CachedSchemaRegistryClient client = client(server.url());

    // When
    int id = client.register("orders-value", SCHEMA);

    // Then: two backoffs, the second about twice the first (jitter fixed at the midpoint)
    assertThat(id).isEqualTo(3);
    assertThat(server.requests()).hasSize(3);
    assertThat(sleeps).containsExactly(75L, 150L);
  }

  @Test
  void shouldRetryEachRetriableStatus() throws Exception {
    for (int status : new int[] {408, 429, 500, 502, 503, 504}) {
      FakeRegistryServer server =
          server().respondRaw(status, "text/plain", "").respond(200, "{\"id\":1}");
      assertThat(client(server.url()).register("s", SCHEMA))
          .as("after HTTP %d", status)
          .isEqualTo(1);
      assertThat(server.requests()).as("after HTTP %d", status).hasSize(2);
    }
  }

  @Test
  void shouldGiveUpAfterMaxRetriesWithTheLastError() throws Exception {
    // Given
    FakeRegistryServer server =
        server().respond(503, "{\"error_code\":50003,\"message\":\"busy\"}");
    CachedSchemaRegistryClient client =
        client(
            Map.of(
                SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                server.url(),
                SchemaRegistryClientConfig.MAX_RETRIES_CONFIG,
                2));

    // When / Then
    assertThatThrownBy(() -> client.register("orders-value", SCHEMA))
        .isInstanceOf(SchemaRegistryServerException.class)
        .satisfies(e -> assertThat(((RestClientException) e).isRetriable()).isTrue());
    assertThat(server.requests()).hasSize(3);
    assertThat(sleeps).hasSize(2);
  }

  @Test
  void shouldNotRetryClientErrors() throws Exception {
    FakeRegistryServer server =
        server().respond(404, "{\"error_code\":40401,\"message\":\"Subject not found\"}");
    assertThatThrownBy(() -> client(server.url()).getLatestSchemaMetadata("nope"))
        .isInstanceOf(SubjectNotFoundException.class);
    assertThat(server.requests()).hasSize(1);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void shouldBoundBackoffBetweenHalfAndFullCapWithJitter() {
    // Given: jitter at both extremes
    Map<String, Object> settings =
        Map.of(
            SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, "http://127.0.0.1:1",
            SchemaRegistryClientConfig.RETRIES_WAIT_MS_CONFIG, 100L,
            SchemaRegistryClientConfig.RETRIES_MAX_WAIT_MS_CONFIG, 1000L);
    RestService low =
        new RestService(new SchemaRegistryClientConfig(settings), ms -> {}, bound -> 0L);
    RestService high =
        new RestService(new SchemaRegistryClientConfig(settings), ms -> {}, bound -> bound - 1);

    // Then: cap doubles from 100 and stops at 1000, even for absurd retry counts
    long[] caps = {100, 200, 400, 800, 1000, 1000};
    for (int retry = 0; retry < caps.length; retry++) {
      assertThat(low.backoffMs(retry)).isEqualTo(caps[retry] / 2);
      assertThat(high.backoffMs(retry)).isEqualTo(caps[retry]);
    }
    assertThat(high.backoffMs(10_000)).isEqualTo(1000);
    assertThat(low.backoffMs(10_000)).isEqualTo(500);
  }

  @Test
  void shouldFailOverToTheNextUrlAndStayThere() throws Exception {
    // Given: the first registry keeps failing, the second answers
    FakeRegistryServer first = server().respond(503, "{\"error_code\":50003,\"message\":\"busy\"}");
    FakeRegistryServer second = server().respond(200, "{\"id\":11}");
    CachedSchemaRegistryClient client =
        client(
            Map.of(
                SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                first.url() + "," + second.url(),
                SchemaRegistryClientConfig.MAX_RETRIES_CONFIG,
                1));

    // When
    int id = client.register("orders-value", SCHEMA);
    client.register("other-value", SCHEMA);

    // Then
    assertThat(id).isEqualTo(11);
    assertThat(first.requests()).hasSize(2);
    assertThat(second.requests()).hasSize(2);
  }

  @Test
  void shouldFailOverOnConnectionErrorsAndReportUnreachableWhenAllFail() throws Exception {
    // Given: two ports where nothing listens any more
    FakeRegistryServer gone1 = server();
    FakeRegistryServer gone2 = server();
    String urls =
        "http://alice:"
            + SECRET
            + "@127.0.0.1:"
            + gone1.port()
            + ",http://127.0.0.1:"
            + gone2.port();
    gone1.close();
    gone2.close();
    CachedSchemaRegistryClient client =
        client(
            Map.of(
                SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                urls,
                SchemaRegistryClientConfig.MAX_RETRIES_CONFIG,
                1));

    // When / Then
    assertThatThrownBy(() -> client.getSchemaById(1))
        .isInstanceOf(SchemaRegistryUnavailableException.class)
        .hasMessageContaining("127.0.0.1:" + gone1.port())
        .hasMessageContaining("127.0.0.1:" + gone2.port())
        .hasMessageNotContaining(SECRET)
        .hasMessageNotContaining("alice");
    assertThat(sleeps).hasSize(2);
    assertNoSecretLogged();
  }

  @Test
  void shouldSendBasicCredentialsFromTheUrlButNotTheUserInfo() throws Exception {
    // Given
    FakeRegistryServer server = server().respond(200, "{\"id\":1}");
    String url = "http://alice:" + SECRET + "@127.0.0.1:" + server.port() + "/";
    CachedSchemaRegistryClient client = client(url);

    // When
    client.register("s", SCHEMA);

    // Then
    FakeRegistryServer.Request request = server.onlyRequest();
    assertThat(request.header("Authorization")).isEqualTo(basic("alice:" + SECRET));
    assertThat(request.pathAndQuery()).isEqualTo("/subjects/s/versions");
    assertThat(client.toString())
        .contains("basic (URL)")
        .doesNotContain(SECRET)
        .doesNotContain("alice");
  }

  @Test
  void shouldSendBasicCredentialsFromUserInfoSetting() throws Exception {
    // Given: given with Confluent's serde prefix
    FakeRegistryServer server = server().respond(200, "{\"id\":1}");
    CachedSchemaRegistryClient client =
        client(
            Map.of(
                SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                server.url(),
                "schema.registry.basic.auth.credentials.source",
                "USER_INFO",
                "schema.registry.basic.auth.user.info",
                "bob:" + SECRET));

    // When
    client.register("s", SCHEMA);

    // Then
    assertThat(server.onlyRequest().header("Authorization")).isEqualTo(basic("bob:" + SECRET));
    assertThat(client.toString()).contains("USER_INFO").doesNotContain(SECRET);
  }

  @Test
  void shouldSendStaticBearerToken() throws Exception {
    // Given
    FakeRegistryServer server = server().respond(200, "{\"id\":1}");
    CachedSchemaRegistryClient client =
        client(
            Map.of(
                SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                server.url(),
                SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG,
                "STATIC_TOKEN",
                SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG,
                TOKEN));

    // When
    client.register("s", SCHEMA);

    // Then
    assertThat(server.onlyRequest().header("Authorization")).isEqualTo("Bearer " + TOKEN);
    assertThat(client.toString()).contains("bearer").doesNotContain(TOKEN);
  }

  @Test
  void shouldKeepSecretsOutOfErrorsAndLogs() throws Exception {
    // Given: a registry that rejects the credentials and then fails
    FakeRegistryServer server =
        server()
            .respond(401, "{\"error_code\":401,\"message\":\"Unauthorized\"}")
            .respond(503, "{\"error_code\":50003,\"message\":\"busy\"}");
    String url = "http://alice:" + SECRET + "@127.0.0.1:" + server.port();
    CachedSchemaRegistryClient client = client(url);

    // When / Then
    assertThatThrownBy(() -> client.register("s", SCHEMA))
        .hasMessageContaining("HTTP 401")
        .hasMessageNotContaining(SECRET)
        .hasMessageNotContaining(
            Base64.getEncoder()
                .encodeToString(("alice:" + SECRET).getBytes(StandardCharsets.UTF_8)));
    assertThatThrownBy(() -> client.getSchemaById(3)).hasMessageNotContaining(SECRET);
    assertThatThrownBy(() -> client(url + ",not a url"))
        .isInstanceOf(ConfigException.class)
        .hasMessageNotContaining(SECRET);
    assertThatThrownBy(() -> client("http://alice:" + SECRET + "@bad host:80"))
        .isInstanceOf(ConfigException.class)
        .hasMessageNotContaining(SECRET);
    assertThat(
            new SchemaRegistryClientConfig(
                    Map.of(
                        SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                        "http://x",
                        SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG,
                        TOKEN))
                .getPassword(SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG)
                .toString())
        .doesNotContain(TOKEN);
    assertThat(logs.list).isNotEmpty();
    assertNoSecretLogged();
  }

  @Test
  void shouldRejectConflictingOrIncompleteAuthSettings() {
    assertThatThrownBy(
            () ->
                client(
                    Map.of(
                        SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, "http://127.0.0.1:1",
                        SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG,
                            "USER_INFO")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("basic.auth.user.info");
    assertThatThrownBy(
            () ->
                client(
                    Map.of(
                        SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, "http://127.0.0.1:1",
                        SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG,
                            "STATIC_TOKEN")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bearer.auth.token");
    assertThatThrownBy(
            () ->
                client(
                    Map.of(
                        SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, "http://127.0.0.1:1",
                        SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG,
                            "SASL_INHERIT")))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void shouldEvictLeastRecentlyUsedSchemasBeyondCapacity() throws Exception {
    // Given: a cache of two
    FakeRegistryServer server =
        server().respond(200, "{\"schema\":" + JSON.writeValueAsString(SCHEMA.toString()) + "}");
    Map<String, Object> settings =
        Map.of(
            SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
            server.url(),
            SchemaRegistryClientConfig.MAX_SCHEMAS_PER_SUBJECT_CONFIG,
            2);
    CachedSchemaRegistryClient client = client(settings);

    // When: 1, 2, touch 1, 3 (evicts 2), then 1 and 2 again
    client.getSchemaById(1);
    client.getSchemaById(2);
    client.getSchemaById(1);
    client.getSchemaById(3);
    client.getSchemaById(1);
    client.getSchemaById(2);

    // Then
    assertThat(client.cachedSchemaCount()).isEqualTo(2);
    assertThat(server.requests())
        .extracting(FakeRegistryServer.Request::pathAndQuery)
        .containsExactly("/schemas/ids/1", "/schemas/ids/2", "/schemas/ids/3", "/schemas/ids/2");
  }

  @Test
  void shouldDefaultTheCacheToConfluentsCapacity() {
    assertThat(client("http://127.0.0.1:1").toString()).contains("cacheCapacity=1000");
  }

  private void assertNoSecretLogged() {
    for (ILoggingEvent event : logs.list) {
      assertThat(event.getFormattedMessage()).doesNotContain(SECRET).doesNotContain(TOKEN);
    }
  }

  private static String basic(String userInfo) {
    return "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
  }
}
