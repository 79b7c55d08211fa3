package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.config.KafkaClientConfigs;
import io.shoplens.processor.app.config.RecommendationSettings;
import io.shoplens.processor.app.config.RetrievalSettings;
import io.shoplens.processor.app.config.Setting;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.search.RetrievalConfig;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shoplens topics ...}. */
@Command(
    name = "topics",
    description = "Topic tools.",
    subcommands = {TopicsCommand.Create.class, CommandLine.HelpCommand.class})
final class TopicsCommand extends CommandGroup {
  TopicsCommand() {
    super("missing subcommand (try shoplens topics create --help)");
  }

  /** {@code shoplens topics create}. */
  @Command(
      name = "create",
      description = {
        "Create ShopLens's topics: uploads and dead letters with max.message.bytes=2 MiB (inline",
        "images), the catalog compacted, the rest with broker defaults; with recommendations",
        "(--recommendations, or shoplens.recommendations.enabled=true in --config or the",
        "environment) also the compacted embeddings topic; with retrieval (--retrieval, or",
        "shoplens.retrieval.model.path set) the embeddings and upload-embeddings topics, both",
        "compacted. Existing topics are reported and left unchanged."
      })
  static final class Create extends CliCommand implements Callable<Integer> {
    @Option(
        names = {"-b", "--bootstrap"},
        paramLabel = "HOST:PORT",
        description =
            "Brokers (default: bootstrap.servers from --config or KAFKA_BOOTSTRAP_SERVERS).")
    String bootstrap;

    // The admin client's security settings, and the recommendation and retrieval settings that
    // say which compacted topics are needed, read as every other command reads its settings.
    @Mixin ConfigOptions configOptions;

    @Option(
        names = {"-p", "--partitions"},
        defaultValue = "6",
        description =
            "Partitions per topic (default ${DEFAULT-VALUE}); uploads and questions must match.")
    int partitions;

    @Option(
        names = {"-r", "--replication-factor"},
        paramLabel = "N",
        description = "Replicas per partition (default: the broker's default.replication.factor).")
    Short replication;

    @Option(
        names = "--recommendations",
        description = {
          "Also create the recommendations' embeddings topic (compacted), named by",
          "shoplens.recommendations.embeddings.topic (default "
              + RecommendConfig.DEFAULT_EMBEDDINGS_TOPIC
              + "). On when",
          "shoplens.recommendations.enabled=true in --config or SHOPLENS_RECOMMENDATIONS_ENABLED."
        })
    boolean recommendations;

    @Option(
        names = "--retrieval",
        description = {
          "Also create the topics search and related products need: the embeddings topic and the",
          "upload-embeddings topic (shoplens.retrieval.upload.embeddings.topic, default "
              + RetrievalConfig.DEFAULT_UPLOAD_EMBEDDINGS_TOPIC
              + "),",
          "both compacted. On when shoplens.retrieval.model.path is set in --config or",
          "SHOPLENS_RETRIEVAL_MODEL_PATH."
        })
    boolean retrieval;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        defaultValue = "30s",
        converter = DurationConverter.class,
        description = "How long to wait for the cluster (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      if (partitions < 1) {
        throw new ShopLensCli.UsageException("--partitions must be at least 1, got " + partitions);
      }
      if (replication != null && replication < 1) {
        throw new ShopLensCli.UsageException(
            "--replication-factor must be at least 1, got " + replication);
      }
      Map<String, String> settings = configOptions.merge().settings();
      List<String> compacted = compactedTopics(settings);
      Map<String, Object> props = ConfigOptions.clientSettings(settings, bootstrap, null);
      if (props.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG) == null) {
        throw new ShopLensCli.UsageException(
            "no brokers: give --bootstrap, bootstrap.servers in --config, or KAFKA_BOOTSTRAP_SERVERS");
      }
      props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
      PrintWriter out = out();
      try (Admin admin = Admin.create(KafkaClientConfigs.admin(props))) {
        List<TopicAdmin.Outcome> outcomes =
            TopicAdmin.create(
                admin,
                TopicAdmin.newTopics(partitions, Optional.ofNullable(replication), compacted),
                timeout.toMillis());
        for (TopicAdmin.Outcome o : outcomes) {
          out.printf("%-32s %s%n", o.topic(), o.detail());
        }
      }
      return ShopLensCli.OK;
    }

    /**
     * The compacted topics asked for: the embeddings topic with recommendations or retrieval, the
     * upload-embeddings topic with retrieval (each by flag or by setting).
     */
    private List<String> compactedTopics(Map<String, String> settings) {
      boolean recommend =
          recommendations
              || isTrue(settings, RecommendationSettings.RECOMMENDATIONS_ENABLED.name());
      String modelPath = settings.get(RetrievalSettings.RETRIEVAL_MODEL_PATH.name());
      boolean search = retrieval || (modelPath != null && !modelPath.isBlank());
      List<String> topics = new ArrayList<>();
      if (recommend || search) {
        topics.add(topicName(settings, RecommendationSettings.RECOMMENDATIONS_EMBEDDINGS_TOPIC));
      }
      if (search) {
        topics.add(topicName(settings, RetrievalSettings.RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC));
      }
      return topics;
    }

    private static boolean isTrue(Map<String, String> settings, String key) {
      String flag = settings.get(key);
      if (flag == null) {
        return false;
      }
      try {
        return (Boolean) ConfigDef.parseType(key, flag, ConfigDef.Type.BOOLEAN);
      } catch (ConfigException e) {
        throw new ShopLensCli.UsageException(e.getMessage());
      }
    }

    private static String topicName(Map<String, String> settings, Setting setting) {
      String topic = settings.getOrDefault(setting.name(), (String) setting.defaultValue());
      if (topic.isBlank()) {
        throw new ShopLensCli.UsageException(setting.name() + " must not be blank");
      }
      return topic.trim();
    }
  }
}
