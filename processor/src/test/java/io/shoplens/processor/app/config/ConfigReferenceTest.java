package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * README.md's configuration reference must be what {@link ConfigReference} generates from {@link
 * ShopLensConfig}. Regenerate it with {@code -Dshoplens.readme.update=true} (see the message).
 */
class ConfigReferenceTest {
  static final Path README = Path.of("..", "README.md");

  @Test
  void shouldKeepTheReadmeReferenceInSyncWithTheConfigDefinitions() throws Exception {
    String readme = Files.readString(README, StandardCharsets.UTF_8);
    String generated = ConfigReference.markdown();
    if (Boolean.getBoolean("shoplens.readme.update")) {
      Files.writeString(
          README, ConfigReference.replaceSection(readme, generated), StandardCharsets.UTF_8);
      readme = Files.readString(README, StandardCharsets.UTF_8);
    }
    assertThat(ConfigReference.currentSection(readme))
        .as(
            "README.md's configuration reference is out of date with ShopLensConfig; regenerate"
                + " it: ./mvnw -pl processor -am test -Dtest=ConfigReferenceTest"
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dshoplens.readme.update=true")
        .isEqualTo(generated);
  }

  @Test
  void shouldListEverySettingWithItsVariable() {
    String generated = ConfigReference.markdown();
    for (String key : ShopLensConfig.configDef().names()) {
      assertThat(generated)
          .contains("`" + key + "`")
          .contains("`" + EnvironmentConfig.environmentVariableFor(key) + "`");
    }
    assertThat(generated).contains("**required**");
  }
}
