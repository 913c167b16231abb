package io.teller.balancer.testing;

/** Reads a sample out of Prometheus text, as {@code /metrics} serves it. */
public final class Prometheus {

  private Prometheus() {}

  /**
   * The value of one sample whose name and labels all appear on its line (a sample without labels
   * has its name alone), or 0.
   */
  public static double sample(String metrics, String name, String... labels) {
    for (String line : metrics.split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      boolean all = true;
      for (String label : labels) {
        all &= line.contains(label);
      }
      if (all) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }
}
