package io.shoplens.processor.topology;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Which faults {@link MultiInstanceFaultIT} injects, in which order, against which target, and at
 * which point of the run: all drawn from one seed, so that a run can be repeated. Each fault fires
 * once the storefront has sent a drawn share of the uploads (so that every fault lands while work
 * is pending, whatever the machine's speed); the wall-clock time it fired at is logged.
 */
final class FaultPlan {
  /** The kinds of fault; each plan has every kind at least once when it has room for them. */
  enum Kind {
    /** SIGKILL of an instance while it works through its backlog, then a restart. */
    SIGKILL("SIGKILL + restart"),
    /** SIGTERM (orderly close, leaves the group), then a restart. */
    GRACEFUL_RESTART("graceful restart"),
    /** A broker shut down in an orderly way (its leaders move), started again later. */
    BROKER_BOUNCE("broker down + up"),
    /**
     * The Schema Registry answers 503 for a while; meanwhile an instance is killed and restarted,
     * so that its fresh serdes, with nothing cached, meet the outage.
     */
    REGISTRY_OUTAGE("registry outage + cold restart"),
    /** A fourth instance joins (rebalance), then leaves again (rebalance). */
    SCALE_OUT_IN("instance added + removed");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /**
   * One planned fault.
   *
   * @param kind what
   * @param target instance slot (0..instances-1) or broker index (0..brokers-1); unused for a
   *     scale-out
   * @param atShare fires once this share of the uploads has been sent
   * @param holdSeconds how long a broker stays down, the registry stays out, the added instance
   *     stays
   */
  record Fault(Kind kind, int target, double atShare, int holdSeconds) {}

  private FaultPlan() {}

  /**
   * @param seed the seed
   * @param count how many faults
   * @param instances instance slots to pick targets from
   * @param brokers brokers to pick targets from
   */
  static List<Fault> draw(long seed, int count, int instances, int brokers) {
    Random random = new Random(seed);
    Kind[] kinds = Kind.values();
    List<Kind> order = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      // Every kind once in each round of kinds.length faults, in a drawn order.
      if (i % kinds.length == 0) {
        List<Kind> round = new ArrayList<>(List.of(kinds));
        Collections.shuffle(round, random);
        order.addAll(round);
      }
    }
    // Fire points spread over 5%..85% of the outputs, each in its own slice, jittered.
    List<Fault> plan = new ArrayList<>();
    double from = 0.05;
    double slice = 0.80 / count;
    for (int i = 0; i < count; i++) {
      Kind kind = order.get(i);
      int target = random.nextInt(kind == Kind.BROKER_BOUNCE ? brokers : instances);
      double at = from + slice * i + slice * 0.8 * random.nextDouble();
      int hold = 3 + random.nextInt(6);
      plan.add(new Fault(kind, target, at, hold));
    }
    return plan;
  }

  /** One line per fault, for the log. */
  static String describe(List<Fault> plan) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < plan.size(); i++) {
      Fault f = plan.get(i);
      s.append(
          String.format(
              Locale.ROOT,
              "  %2d. %-32s target %d at %4.1f%% of uploads sent, hold %d s%n",
              i + 1,
              f.kind().label,
              f.target(),
              f.atShare() * 100,
              f.holdSeconds()));
    }
    return s.toString();
  }
}
