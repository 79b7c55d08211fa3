package io.shoplens.processor.app.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/**
 * The settings of one group of the configuration reference, in the order they are declared: a
 * settings class declares each of its settings once, as a constant made by {@link #define}, and the
 * reference lists them in that order.
 */
final class SettingGroup {
  private final String name;
  private final List<Setting> settings = new ArrayList<>();

  /**
   * @param name the group's heading in the reference
   */
  SettingGroup(String name) {
    this.name = name;
  }

  String name() {
    return name;
  }

  /** Declares the next setting of this group. */
  Setting define(
      String key,
      Type type,
      Object defaultValue,
      ConfigDef.Validator validator,
      Importance importance,
      String doc) {
    Setting setting = new Setting(key, type, defaultValue, validator, importance, doc);
    settings.add(setting);
    return setting;
  }

  /**
   * Declares the next setting of this group that is a duration, set in milliseconds (its key ends
   * in {@code .ms}); read it with {@link ShopLensConfig#getDuration(String)}.
   */
  Setting define(
      String key,
      Duration defaultValue,
      ConfigDef.Validator validator,
      Importance importance,
      String doc) {
    return define(key, Type.LONG, defaultValue.toMillis(), validator, importance, doc);
  }

  /**
   * Declares the next setting of this group whose value names one of {@code defaultValue}'s enum
   * constants, in any case: the valid values are the enum's, so they cannot drift from it.
   */
  <E extends Enum<E>> Setting define(
      String key, E defaultValue, Importance importance, String doc) {
    String[] names =
        Arrays.stream(defaultValue.getDeclaringClass().getEnumConstants())
            .map(Enum::name)
            .toArray(String[]::new);
    return define(
        key,
        Type.STRING,
        defaultValue.name(),
        ConfigDef.CaseInsensitiveValidString.in(names),
        importance,
        doc);
  }

  /** Adds this group's settings to {@code def}, numbered in declaration order. */
  void addTo(ConfigDef def) {
    int order = 0;
    for (Setting s : settings) {
      def.define(
          s.name(),
          s.type(),
          s.defaultValue(),
          s.validator(),
          s.importance(),
          s.doc(),
          name,
          ++order,
          Width.MEDIUM,
          s.name());
    }
  }
}
