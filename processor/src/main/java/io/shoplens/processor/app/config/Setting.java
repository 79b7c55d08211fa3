package io.shoplens.processor.app.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * One ShopLens setting, declared once: its key, type, default, validator, importance and doc. Each
 * settings class declares its settings through its {@link SettingGroup}, which puts them into the
 * {@link ConfigDef} in the order they are declared; values are read by {@link #name()}.
 *
 * @param name the key, e.g. {@code shoplens.image.fetch.threads}
 * @param defaultValue the default, from the option record's {@code defaults()} where the setting
 *     feeds one; {@link ConfigDef#NO_DEFAULT_VALUE} for a required setting
 * @param validator checks a value, or {@code null}
 */
public record Setting(
    String name,
    Type type,
    Object defaultValue,
    ConfigDef.Validator validator,
    Importance importance,
    String doc) {}
