package io.shoplens.processor.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The production jar ({@code shoplens.jar}, what the Docker images run), as {@code package} built
 * it: Kafka's broker and the demo are the demo module's, and must not come back into it through a
 * dependency.
 */
class ProductionJarIT {
  private static final Path JAR =
      Path.of(System.getProperty("shoplens.jar", "target/shoplens.jar"));

  @Test
  void shouldLeaveKafkasBrokerScalaAndTheDemoOutOfTheProductionJar() throws IOException {
    // Given the production jar
    assertThat(JAR).as("built by `package` before the integration tests").isRegularFile();

    // When its entries are listed
    List<String> names;
    try (JarFile jar = new JarFile(JAR.toFile())) {
      names = jar.stream().map(ZipEntry::getName).toList();
    }

    // Then the application is there, and the broker (Scala classes under kafka/; the clients
    // keep only their version files there), its test kit, Scala and the demo are not
    assertThat(names)
        .contains(
            "io/shoplens/processor/app/Main.class", "org/apache/kafka/streams/KafkaStreams.class");
    List<String> forbidden =
        List.of(
            "org/apache/kafka/common/test/",
            "scala/",
            "io/shoplens/embedded/",
            "io/shoplens/demo/",
            "shoplens/demo/");
    assertThat(
            names.stream()
                .filter(
                    n ->
                        (n.startsWith("kafka/") && n.endsWith(".class"))
                            || forbidden.stream().anyMatch(n::startsWith))
                .toList())
        .as("entries of %s that only the demo needs", JAR)
        .isEmpty();
  }

  @Test
  void shouldGrantNativeAccessInTheManifestSoThatJava24StartsWithoutWarnings() throws IOException {
    // Given the production jar, When its manifest is read
    String access;
    String main;
    try (JarFile jar = new JarFile(JAR.toFile())) {
      access = jar.getManifest().getMainAttributes().getValue("Enable-Native-Access");
      main = jar.getManifest().getMainAttributes().getValue("Main-Class");
    }

    // Then it runs the application and lets ONNX Runtime load its native library quietly
    assertThat(main).isEqualTo("io.shoplens.processor.app.Main");
    assertThat(access).isEqualTo("ALL-UNNAMED");
  }
}
