package io.shoplens.demo;

import io.shoplens.processor.app.Main;
import java.util.List;

/**
 * The demo jar's {@code shoplens} command ({@code ./shoplens}, {@code java -jar
 * shoplens-demo.jar}): every command of the production jar, with {@code shoplens demo} running on
 * an in-process Kafka broker instead of the production jar's note that the demo is not in it.
 */
public final class DemoMain {

  private DemoMain() {}

  public static void main(String[] args) {
    System.exit(Main.run(args, System.getenv(), List.of(new DemoCommand())));
  }
}
