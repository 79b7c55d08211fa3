package io.shoplens.serde;

import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Resolves a configured strategy name to an instance. */
final class SubjectNameStrategies {
  private static final String CONFLUENT_PACKAGE = "io.confluent.kafka.serializers.subject.";

  private static final Map<String, Class<? extends SubjectNameStrategy>> BUILT_IN =
      Map.of(
          "TopicNameStrategy", TopicNameStrategy.class,
          "RecordNameStrategy", RecordNameStrategy.class,
          "TopicRecordNameStrategy", TopicRecordNameStrategy.class);

  private SubjectNameStrategies() {}

  /** Validates a strategy setting when the config is parsed. */
  static final ConfigDef.Validator VALIDATOR =
      (name, value) -> {
        if (value != null) {
          forName(name, value.toString());
        }
      };

  /**
   * Accepts a short name ({@code TopicNameStrategy}), Confluent's class name ({@code
   * io.confluent.kafka.serializers.subject.TopicNameStrategy}), ours, or the name of any class
   * implementing {@link SubjectNameStrategy} with a public no-argument constructor.
   */
  static SubjectNameStrategy forName(String setting, String name) {
    String trimmed = name.trim();
    String shortName =
        trimmed.startsWith(CONFLUENT_PACKAGE)
            ? trimmed.substring(CONFLUENT_PACKAGE.length())
            : trimmed.startsWith(SubjectNameStrategies.class.getPackageName() + ".")
                ? trimmed.substring(SubjectNameStrategies.class.getPackageName().length() + 1)
                : trimmed;
    Class<? extends SubjectNameStrategy> builtIn = BUILT_IN.get(shortName);
    try {
      Class<?> type =
          builtIn != null
              ? builtIn
              : Class.forName(trimmed, true, Thread.currentThread().getContextClassLoader());
      if (!SubjectNameStrategy.class.isAssignableFrom(type)) {
        throw new ConfigException(setting, name, "is not a " + SubjectNameStrategy.class.getName());
      }
      return (SubjectNameStrategy) type.getConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new ConfigException(
          setting,
          name,
          "unknown subject name strategy; expected TopicNameStrategy, RecordNameStrategy,"
              + " TopicRecordNameStrategy (short or Confluent class names) or a class"
              + " implementing "
              + SubjectNameStrategy.class.getName());
    }
  }
}
