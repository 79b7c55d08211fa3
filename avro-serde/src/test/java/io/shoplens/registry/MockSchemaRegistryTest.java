package io.shoplens.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MockSchemaRegistryTest {
  private final String scope = "mock-test-" + UUID.randomUUID();
  private final String otherScope = scope + "-other";

  private static final Schema V1 =
      SchemaBuilder.record("Order")
          .namespace("io.shoplens.test")
          .fields()
          .requiredString("id")
          .endRecord();
  // Adds an optional field: BACKWARD and FORWARD compatible with V1.
  private static final Schema V2 =
      SchemaBuilder.record("Order")
          .namespace("io.shoplens.test")
          .fields()
          .requiredString("id")
          .optionalString("note")
          .endRecord();
  // Adds a required field without a default: cannot read V1 data (not BACKWARD).
  private static final Schema V2_REQUIRED =
      SchemaBuilder.record("Order")
          .namespace("io.shoplens.test")
          .fields()
          .requiredString("id")
          .requiredLong("amount")
          .endRecord();

  @AfterEach
  void dropScopes() {
    MockSchemaRegistry.dropScope(scope);
    MockSchemaRegistry.dropScope(otherScope);
  }

  @Test
  void shouldNumberIdsFromOnePerScopeAndShareThemAcrossSubjects() throws Exception {
    // Given
    SchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);

    // When
    int first = registry.register("a-value", V1);
    int sameElsewhere = registry.register("b-value", V1);
    int again = registry.register("a-value", V1);
    int second = registry.register("a-value", V2);
    int otherScopeFirst = MockSchemaRegistry.getClientForScope(otherScope).register("a-value", V2);

    // Then
    assertThat(first).isEqualTo(1);
    assertThat(sameElsewhere).isEqualTo(1);
    assertThat(again).isEqualTo(1);
    assertThat(second).isEqualTo(2);
    assertThat(otherScopeFirst).isEqualTo(1);
    assertThat(registry.getAllVersions("a-value")).containsExactly(1, 2);
    assertThat(registry.getAllVersions("b-value")).containsExactly(1);
    assertThat(registry.getVersion("a-value", V2)).isEqualTo(2);
    assertThat(registry.getLatestSchemaMetadata("a-value"))
        .isEqualTo(new SchemaMetadata("a-value", 2, 2, V2.toString()));
    assertThat(registry.getSchemaMetadata("a-value", 1).avroSchema()).isEqualTo(V1);
    assertThat(registry.getSchemaById(2)).isEqualTo(V2);
    assertThat(registry.getAllSubjects()).containsExactly("a-value", "b-value");
  }

  @Test
  void shouldShareOneRegistryPerScopeUntilDropped() throws Exception {
    // Given
    SchemaRegistryClient viaFactory =
        SchemaRegistryClientFactory.create(
            Map.of(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + scope));
    viaFactory.register("a-value", V1);

    // When / Then: another client of the scope sees it
    assertThat(MockSchemaRegistry.getClientForScope(scope).getId("a-value", V1)).isEqualTo(1);

    // When the scope is dropped, it starts empty
    MockSchemaRegistry.dropScope(scope);
    SchemaRegistryClient fresh = MockSchemaRegistry.getClientForScope(scope);
    assertThat(fresh.getAllSubjects()).isEmpty();
    assertThat(fresh.register("z-value", V2)).isEqualTo(1);
  }

  @Test
  void shouldRejectMixedOrMultipleMockUrls() {
    assertThatThrownBy(
            () ->
                SchemaRegistryClientFactory.create(
                    Map.of(
                        SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
                        "mock://a,http://localhost:8081")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("mock://");
    assertThatThrownBy(() -> SchemaRegistryClientFactory.create(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("schema.registry.url");
  }

  @Test
  void shouldCreateRestClientForHttpUrls() {
    assertThat(
            SchemaRegistryClientFactory.create(
                Map.of(
                    SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, "http://127.0.0.1:1")))
        .isInstanceOf(CachedSchemaRegistryClient.class);
  }

  @Test
  void shouldEnforceBackwardCompatibilityByDefault() throws Exception {
    // Given
    SchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);
    registry.register("orders-value", V1);

    // When / Then
    assertThat(registry.getCompatibility("orders-value")).isEqualTo(CompatibilityLevel.BACKWARD);
    assertThat(registry.testCompatibility("orders-value", V2_REQUIRED)).isFalse();
    assertThatThrownBy(() -> registry.register("orders-value", V2_REQUIRED))
        .isInstanceOf(IncompatibleSchemaException.class)
        .hasMessageContaining("orders-value")
        .hasMessageContaining("amount")
        .satisfies(
            e -> {
              assertThat(((RestClientException) e).status()).isEqualTo(409);
              assertThat(((RestClientException) e).errorCode()).isEqualTo(40901);
            });
    assertThat(registry.register("orders-value", V2)).isEqualTo(2);
    assertThat(registry.getAllVersions("orders-value")).containsExactly(1, 2);
  }

  @Test
  void shouldApplyTheSubjectsOwnLevel() throws Exception {
    // Given
    SchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);
    registry.register("orders-value", V1);

    // When: NONE accepts anything
    registry.updateCompatibility("orders-value", CompatibilityLevel.NONE);
    int id = registry.register("orders-value", V2_REQUIRED);

    // Then
    assertThat(id).isEqualTo(2);
    assertThat(registry.getCompatibility("orders-value")).isEqualTo(CompatibilityLevel.NONE);
    assertThat(registry.getCompatibility(null)).isEqualTo(CompatibilityLevel.BACKWARD);
  }

  @Test
  void shouldCheckForwardAndTransitiveLevels() throws Exception {
    // Given: V1 then V2 (optional note); a V3 that drops "id" has no default for old readers
    Schema v3 =
        SchemaBuilder.record("Order")
            .namespace("io.shoplens.test")
            .fields()
            .optionalString("note")
            .endRecord();
    SchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);
    registry.updateCompatibility("orders-value", CompatibilityLevel.FORWARD_TRANSITIVE);
    registry.register("orders-value", V1);
    registry.register("orders-value", V2);

    // When / Then: V1 readers need "id"
    assertThatThrownBy(() -> registry.register("orders-value", v3))
        .isInstanceOf(IncompatibleSchemaException.class)
        .hasMessageContaining("schema id 1");

    // And BACKWARD (latest only) accepts it: V3 reads V2 data
    registry.updateCompatibility("orders-value", CompatibilityLevel.BACKWARD);
    assertThat(registry.testCompatibility("orders-value", v3)).isTrue();
  }

  @Test
  void shouldAnswerMissingThingsWithConfluentsErrorCodes() throws Exception {
    SchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);
    registry.register("orders-value", V1);

    assertThatThrownBy(() -> registry.getLatestSchemaMetadata("nope"))
        .isInstanceOf(SubjectNotFoundException.class)
        .extracting(e -> ((RestClientException) e).errorCode())
        .isEqualTo(40401);
    assertThatThrownBy(() -> registry.getSchemaMetadata("orders-value", 9))
        .isInstanceOf(VersionNotFoundException.class)
        .extracting(e -> ((RestClientException) e).errorCode())
        .isEqualTo(40402);
    assertThatThrownBy(() -> registry.getSchemaById(99))
        .isInstanceOf(SchemaNotFoundException.class)
        .extracting(e -> ((RestClientException) e).errorCode())
        .isEqualTo(40403);
    assertThatThrownBy(() -> registry.getId("orders-value", V2))
        .isInstanceOf(SchemaNotFoundException.class);
  }

  @Test
  void shouldResolveSchemasByGuidAndKeepIdsAfterSubjectDeletion() throws Exception {
    MockSchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);
    int id = registry.register("orders-value", V1);
    String guid = registry.getGuid(id);

    assertThat(registry.getSchemaByGuid(guid)).isEqualTo(V1);
    assertThat(registry.deleteSubject("orders-value")).containsExactly(1);
    assertThat(registry.getSchemaById(id)).isEqualTo(V1);
    assertThatThrownBy(() -> registry.getAllVersions("orders-value"))
        .isInstanceOf(SubjectNotFoundException.class);
    assertThatThrownBy(() -> registry.getSchemaByGuid(UUID.randomUUID().toString()))
        .isInstanceOf(SchemaNotFoundException.class);
  }
}
