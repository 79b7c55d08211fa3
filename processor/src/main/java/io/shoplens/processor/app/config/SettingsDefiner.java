package io.shoplens.processor.app.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/**
 * Keeps group and order-in-group bookkeeping out of every definition: each settings class opens its
 * group and defines its keys in the order the reference lists them.
 */
final class SettingsDefiner {
  private final ConfigDef def = new ConfigDef();
  private String group;
  private int order;

  SettingsDefiner group(String name) {
    group = name;
    order = 0;
    return this;
  }

  SettingsDefiner define(
      String name,
      Type type,
      Object defaultValue,
      ConfigDef.Validator validator,
      Importance importance,
      String doc) {
    def.define(
        name, type, defaultValue, validator, importance, doc, group, ++order, Width.MEDIUM, name);
    return this;
  }

  ConfigDef configDef() {
    return def;
  }
}
