package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The gateway's settings: no model needed, the API key hidden, every problem reported. */
class GatewaySettingsTest {
  private static Map<String, String> minimal() {
    Map<String, String> s = new HashMap<>();
    s.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), "kafka:9092");
    s.put(RegistrySettings.SCHEMA_REGISTRY_URL.name(), "http://registry:8081");
    return s;
  }

  @Test
  void shouldValidateAGatewayConfigurationWithoutAModel() {
    Map<String, String> s = minimal();
    s.put(GatewaySettings.API_KEY.name(), "top-secret");
    s.put(GatewaySettings.CORS_ALLOWED_ORIGINS.name(), "https://shop.example, https://m.example");
    s.put(GatewaySettings.BIND_ADDRESS.name(), " 127.0.0.1 ");

    ShopLensConfig config = ShopLensConfig.validateForGateway(s);

    assertThat(config.gatewayConfig().bindAddress()).isEqualTo("127.0.0.1");
    assertThat(ShopLensConfig.validateForGateway(minimal()).gatewayConfig().bindAddress())
        .isEqualTo("0.0.0.0");

    assertThat(config.gatewayConfig().apiKey().value()).isEqualTo("top-secret");
    assertThat(config.gatewayConfig().corsAllowedOrigins())
        .containsExactly("https://shop.example", "https://m.example");
    assertThat(config.describe().get(GatewaySettings.API_KEY.name())).isEqualTo("[hidden]");
    assertThat(config.toString()).doesNotContain("top-secret");
    assertThat(config.gatewayConfig().toString()).doesNotContain("top-secret");
  }

  @Test
  void shouldCheckQuestionOptionsAgainstTheAnswerSettingsShopLensReads() {
    // Given the answer settings a ShopLens and its gateway share
    Map<String, String> s = minimal();
    s.put(TopologySettings.ANSWER_MAX_NEW_TOKENS.name(), "12");
    s.put(TopologySettings.QUESTION_MAX_NEW_TOKENS_LIMIT.name(), "40");

    // When the gateway's options are read
    ShopLensConfig config = ShopLensConfig.validateForGateway(s);

    // Then they are the topology's, not the defaults
    assertThat(config.gatewayConfig().answerOptions())
        .isEqualTo(config.topologyConfig("m", 1).answerOptions());
    assertThat(config.gatewayConfig().answerOptions().maxNewTokens()).isEqualTo(12);
    assertThat(config.gatewayConfig().maxNewTokensLimit()).isEqualTo(40);
  }

  @Test
  void shouldCheckCaptionOptionsAgainstTheCaptionSettingsShopLensReads() {
    // Given caption settings a ShopLens and its gateway share
    Map<String, String> s = minimal();
    s.put("shoplens.caption.strategy", "BEAM");
    s.put("shoplens.caption.num.beams", "5");
    s.put("shoplens.caption.max.new.tokens", "24");

    // When the gateway's options are read
    ShopLensConfig config = ShopLensConfig.validateForGateway(s);

    // Then an upload's captionOptions are checked against the topology's caption defaults
    assertThat(config.gatewayConfig().captionOptions())
        .isEqualTo(config.topologyConfig("m", 1).captionOptions());
    assertThat(config.gatewayConfig().captionOptions().numBeams()).isEqualTo(5);
    assertThat(config.gatewayConfig().captionOptions().maxNewTokens()).isEqualTo(24);
  }

  @Test
  void shouldCheckSearchesAgainstTheSearchLimitsShopLensReads() {
    // Given the search settings a ShopLens and its gateway share, and the gateway's own timeout
    Map<String, String> s = minimal();
    s.put(RetrievalSettings.SEARCH_MAX_QUERY_CHARS.name(), "64");
    s.put(RetrievalSettings.SEARCH_MAX_LIMIT.name(), "7");
    s.put(GatewaySettings.SEARCH_TIMEOUT_MS.name(), "2500");

    // When the gateway's options are read
    ShopLensConfig config = ShopLensConfig.validateForGateway(s);

    // Then they are those, not the defaults
    assertThat(config.gatewayConfig().searchMaxQueryChars()).isEqualTo(64);
    assertThat(config.gatewayConfig().searchMaxLimit()).isEqualTo(7);
    assertThat(config.gatewayConfig().searchTimeout()).isEqualTo(java.time.Duration.ofMillis(2500));
    Map<String, String> tooLong = minimal();
    tooLong.put(GatewaySettings.SEARCH_TIMEOUT_MS.name(), "60001");
    assertThatThrownBy(() -> ShopLensConfig.validateForGateway(tooLong))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .anyMatch(p -> p.startsWith(GatewaySettings.SEARCH_TIMEOUT_MS.name())));
  }

  @Test
  void shouldReportEveryBadGatewaySettingAtOnce() {
    Map<String, String> s = minimal();
    s.put(GatewaySettings.MAX_IMAGE_BYTES.name(), "0");
    s.put(GatewaySettings.REQUESTS_PER_MINUTE.name(), "-1");

    assertThatThrownBy(() -> ShopLensConfig.validateForGateway(s))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .hasSize(2)
                    .anyMatch(p -> p.startsWith(GatewaySettings.MAX_IMAGE_BYTES.name()))
                    .anyMatch(p -> p.startsWith(GatewaySettings.REQUESTS_PER_MINUTE.name())));
  }

  @Test
  void shouldStillRequireTheModelForRun() {
    assertThatThrownBy(() -> ShopLensConfig.validate(minimal()))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .anyMatch(p -> p.startsWith(ModelSettings.MODEL_PATH.name())));
  }
}
