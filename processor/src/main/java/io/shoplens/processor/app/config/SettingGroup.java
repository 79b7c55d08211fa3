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

  /** Declares the next setting of this group: an {@code int}. */
  Declaration define(String key, int defaultValue, ConfigDef.Validator validator) {
    return new Declaration(key, Type.INT, defaultValue, validator);
  }

  /** Declares the next setting of this group: a {@code long}. */
  Declaration define(String key, long defaultValue, ConfigDef.Validator validator) {
    return new Declaration(key, Type.LONG, defaultValue, validator);
  }

  /** Declares the next setting of this group: a {@code double}. */
  Declaration define(String key, double defaultValue, ConfigDef.Validator validator) {
    return new Declaration(key, Type.DOUBLE, defaultValue, validator);
  }

  /** Declares the next setting of this group: a {@code boolean}. */
  Declaration define(String key, boolean defaultValue) {
    return new Declaration(key, Type.BOOLEAN, defaultValue, null);
  }

  /** Declares the next setting of this group: a string. */
  Declaration define(String key, String defaultValue, ConfigDef.Validator validator) {
    return new Declaration(key, Type.STRING, defaultValue, validator);
  }

  /** Declares the next setting of this group: a comma-separated list. */
  Declaration define(String key, List<String> defaultValue, ConfigDef.Validator validator) {
    return new Declaration(key, Type.LIST, String.join(",", defaultValue), validator);
  }

  /**
   * Declares the next setting of this group: a duration, set in milliseconds (its key ends in
   * {@code .ms}); read it with {@link ShopLensConfig#getDuration(String)}.
   */
  Declaration define(String key, Duration defaultValue, ConfigDef.Validator validator) {
    return new Declaration(key, Type.LONG, defaultValue.toMillis(), validator);
  }

  /**
   * Declares the next setting of this group: one of {@code defaultValue}'s enum constants, in any
   * case. The valid values are the enum's, so they cannot drift from it; read it with {@link
   * ShopLensConfig#getEnum}.
   */
  <E extends Enum<E>> Declaration define(String key, E defaultValue) {
    String[] names =
        Arrays.stream(defaultValue.getDeclaringClass().getEnumConstants())
            .map(Enum::name)
            .toArray(String[]::new);
    return new Declaration(
        key, Type.STRING, defaultValue.name(), ConfigDef.CaseInsensitiveValidString.in(names));
  }

  /** Declares the next setting of this group: a secret, unset by default, never logged. */
  Declaration password(String key) {
    return new Declaration(key, Type.PASSWORD, null, null);
  }

  /** Declares the next setting of this group: one without a default, that must be set. */
  Declaration required(String key, Type type, ConfigDef.Validator validator) {
    return new Declaration(key, type, ConfigDef.NO_DEFAULT_VALUE, validator);
  }

  /**
   * A setting being declared: {@link Importance#LOW} unless {@link #importance} says otherwise;
   * {@link #doc} ends the declaration and adds the setting to its group.
   */
  final class Declaration {
    private final String key;
    private final Type type;
    private final Object defaultValue;
    private final ConfigDef.Validator validator;
    private Importance importance = Importance.LOW;

    private Declaration(String key, Type type, Object defaultValue, ConfigDef.Validator validator) {
      this.key = key;
      this.type = type;
      this.defaultValue = defaultValue;
      this.validator = validator;
    }

    /** How much the reference stresses the setting ({@link Importance#LOW} by default). */
    Declaration importance(Importance importance) {
      this.importance = importance;
      return this;
    }

    /** Ends the declaration: the setting, added to its group after those declared before it. */
    Setting doc(String doc) {
      Setting setting = new Setting(key, type, defaultValue, validator, importance, doc);
      settings.add(setting);
      return setting;
    }
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
