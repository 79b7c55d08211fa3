package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.processor.app.gateway.GatewayConfig;
import io.shoplens.processor.images.ImageResolverConfig;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every default is stated once, in an option record's {@code defaults()}; the {@link ConfigDef}
 * reads it from there. Two checks together make a drift fail:
 *
 * <ol>
 *   <li>a configuration that sets nothing maps onto exactly the records' {@code defaults()}, so a
 *       {@code ConfigDef} default that differs from its record default changes a record;
 *   <li>every setting of the groups that feed a record, taken one by one from the definitions (not
 *       from a list kept here), does change a record when set to another valid value, so no setting
 *       escapes the first check.
 * </ol>
 */
class ConfigDefaultsTest {
  /** Groups whose settings feed an option record; the others configure clients and operations. */
  static final Set<String> RECORD_GROUPS =
      Set.of(
          ModelSettings.SETTINGS.name(),
          ImageSettings.SETTINGS.name(),
          TopologySettings.SETTINGS.name(),
          RecommendationSettings.SETTINGS.name(),
          GatewaySettings.SETTINGS.name());

  /**
   * Settings that another value of a key needs beside it to be valid (the decoding options are
   * checked together: more beams only with beam search, more sequences only with beam search or
   * sampling). They are set in the baseline and in the changed configuration alike, so the change
   * of the key itself must still change a record.
   */
  static final Map<String, Map<String, String>> CONTEXT = decodingContext();

  private static Map<String, Map<String, String>> decodingContext() {
    Map<String, Map<String, String>> context = new java.util.HashMap<>();
    for (String prefix : List.of("shoplens.caption.", "shoplens.attribute.")) {
      context.put(
          prefix + "num.beams", Map.of(prefix + "strategy", "BEAM", prefix + "num.beams", "2"));
      context.put(prefix + "num.return.sequences", Map.of(prefix + "strategy", "SAMPLE"));
    }
    return context;
  }

  static final String MODEL_ID = "model-under-test";
  static final int IMAGE_TOKENS = 32;

  @TempDir Path dir;

  @Test
  void shouldMapAConfigurationThatSetsNothingOntoEveryRecordsDefaults() {
    // Given only the required settings
    ShopLensConfig config = ShopLensConfig.validate(ShopLensConfigTest.minimal());

    // When / Then
    assertThat(config.engineConfig()).isEqualTo(EngineConfig.defaults());
    assertThat(config.imageResolverConfig()).isEqualTo(ImageResolverConfig.defaults());
    assertThat(config.recommendConfig()).isEqualTo(RecommendConfig.defaults());
    assertThat(config.gatewayConfig()).isEqualTo(GatewayConfig.defaults());
    assertThat(config.topologyConfig(MODEL_ID, IMAGE_TOKENS))
        .isEqualTo(
            ShopLensTopologyConfig.builder(config.kafkaProperties())
                .modelId(MODEL_ID)
                .imageTokens(IMAGE_TOKENS)
                .build());
  }

  static Stream<String> recordSettings() {
    return ShopLensConfig.configDef().configKeys().values().stream()
        .filter(k -> RECORD_GROUPS.contains(k.group))
        .filter(ConfigKey::hasDefault)
        .map(k -> k.name);
  }

  @Test
  void shouldFindSettingsInEveryGroupThatFeedsARecord() {
    // Guards the parameterised test below against silently testing nothing.
    Set<String> groups = new java.util.HashSet<>();
    ShopLensConfig.configDef().configKeys().values().stream()
        .filter(k -> recordSettings().anyMatch(k.name::equals))
        .forEach(k -> groups.add(k.group));
    assertThat(groups).isEqualTo(RECORD_GROUPS);
  }

  @ParameterizedTest
  @MethodSource("recordSettings")
  void shouldFeedEverySettingWithADefaultIntoAnOptionRecord(String name) throws Exception {
    // Given the defaults, and the same with this one setting changed to another valid value
    ConfigKey key = ShopLensConfig.configDef().configKeys().get(name);
    Map<String, String> baseline = baseline(name);
    Map<String, String> changed = new java.util.HashMap<>(baseline);
    Optional<String> other = otherValidValue(key);
    assertThat(other).as("another valid value for %s", name).isPresent();
    changed.put(name, other.orElseThrow());

    // When
    List<Object> base = records(ShopLensConfig.validate(baseline));
    List<Object> withChange = records(ShopLensConfig.validate(changed));

    // Then
    assertThat(withChange)
        .as("%s=%s must change one of the option records", name, other.orElseThrow())
        .isNotEqualTo(base);
  }

  /** The required settings, plus what {@link #CONTEXT} says the key needs. */
  private static Map<String, String> baseline(String name) {
    Map<String, String> settings = ShopLensConfigTest.minimal();
    settings.putAll(CONTEXT.getOrDefault(name, Map.of()));
    return settings;
  }

  private static List<Object> records(ShopLensConfig config) {
    return List.of(
        config.engineConfig(),
        config.imageResolverConfig(),
        config.recommendConfig(),
        config.gatewayConfig(),
        config.topologyConfig(MODEL_ID, IMAGE_TOKENS));
  }

  /** A value unlike the default that the whole configuration accepts, found by the key's type. */
  private Optional<String> otherValidValue(ConfigKey key) throws Exception {
    String inContext = CONTEXT.getOrDefault(key.name, Map.of()).get(key.name);
    Object d =
        inContext == null ? key.defaultValue : ConfigDef.parseType(key.name, inContext, key.type);
    List<String> candidates = new ArrayList<>();
    switch (key.type) {
      case BOOLEAN -> candidates.add(String.valueOf(!(Boolean) d));
      case INT, LONG -> {
        long v = ((Number) d).longValue();
        candidates.add(String.valueOf(v + 1));
        candidates.add(String.valueOf(v - 1));
      }
      case DOUBLE -> {
        double v = (Double) d;
        candidates.add(String.valueOf(v + 0.25));
        candidates.add(String.valueOf(v - 0.25));
      }
      case LIST -> {
        List<?> list = (List<?>) d;
        if (list.isEmpty()) {
          candidates.add("images.example.com");
        } else {
          candidates.add(
              String.join(
                  ",", list.subList(0, list.size() - 1).stream().map(String::valueOf).toList()));
        }
      }
      case STRING -> {
        // Enumerated strings: another listed value; free strings: another name, or a file.
        // ValidString prints "[A, B]", CaseInsensitiveValidString "(case insensitive) [A, B]".
        String allowed = String.valueOf(key.validator);
        int open = allowed.indexOf('[');
        int close = allowed.lastIndexOf(']');
        if (open >= 0 && close > open) {
          for (String v : allowed.substring(open + 1, close).split(",\\s*")) {
            if (!v.equalsIgnoreCase(String.valueOf(d))) {
              candidates.add(v);
            }
          }
        }
        candidates.add(d + ".other");
        Path vocabulary = dir.resolve("vocabulary.txt");
        Files.writeString(vocabulary, "category.kilt = tartan skirt\n", StandardCharsets.UTF_8);
        candidates.add(vocabulary.toString());
      }
      case PASSWORD -> candidates.add("a-secret");
      default -> {}
    }
    for (String candidate : candidates) {
      if (Objects.equals(ConfigDef.parseType(key.name, candidate, key.type), d)) {
        continue;
      }
      Map<String, String> settings = baseline(key.name);
      settings.put(key.name, candidate);
      try {
        ShopLensConfig.validate(settings);
        return Optional.of(candidate);
      } catch (ConfigProblemsException | ConfigException e) {
        // not valid here; try the next candidate
      }
    }
    return Optional.empty();
  }
}
