package io.teller.common.cluster;

import java.util.Objects;

/**
 * How a node finds the other members of its cluster.
 *
 * <ul>
 *   <li>{@link Mode#TCP}: the member list from configuration ({@code cluster.members}); host names
 *       are resolved at every attempt.
 *   <li>{@link Mode#KUBERNETES_DNS}: the addresses of a Kubernetes headless Service, looked up in
 *       DNS at every attempt. Needs no access to the Kubernetes API, so no RBAC.
 *   <li>{@link Mode#KUBERNETES_API}: the endpoints of a Kubernetes Service, read from the
 *       Kubernetes API in the pod's own namespace; needs a Role that may read them.
 * </ul>
 *
 * <p>In both Kubernetes modes the Service selects the registry pods (the data members): balancers
 * and backends find the cluster through them, and every node contacts them on its own {@code
 * cluster.port}, so the whole cluster uses one port there.
 *
 * @param mode how members are found
 * @param kubernetesService the registry's headless Service: a DNS name in DNS mode (a short name is
 *     resolved in the pod's own namespace), the Service's name in API mode; empty for TCP
 */
public record ClusterDiscovery(Mode mode, String kubernetesService) {

  /** The ways of finding members. */
  public enum Mode {
    TCP,
    KUBERNETES_DNS,
    KUBERNETES_API
  }

  /** The member list from configuration. */
  public static final ClusterDiscovery TCP = new ClusterDiscovery(Mode.TCP, "");

  public ClusterDiscovery {
    Objects.requireNonNull(mode);
    Objects.requireNonNull(kubernetesService);
    if (mode != Mode.TCP && kubernetesService.isBlank()) {
      throw new IllegalArgumentException("Kubernetes discovery needs the registry's Service");
    }
  }

  /** Members are the addresses the headless Service {@code serviceDns} resolves to. */
  public static ClusterDiscovery kubernetesDns(String serviceDns) {
    return new ClusterDiscovery(Mode.KUBERNETES_DNS, serviceDns);
  }

  /** Members are the endpoints of the Service {@code serviceName}, from the Kubernetes API. */
  public static ClusterDiscovery kubernetesApi(String serviceName) {
    return new ClusterDiscovery(Mode.KUBERNETES_API, serviceName);
  }
}
