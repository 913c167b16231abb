package io.teller.balancer.routing;

import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.Picker;
import io.teller.common.model.Service;
import java.util.Map;

/**
 * One service as the balancer sees it at one moment: its definition, the endpoints that may take
 * new requests (healthy, weight above 0) and the picker built for exactly those. Immutable; a
 * registry change builds a new pool and the route table swaps it in one assignment.
 *
 * @param service the service's definition
 * @param endpoints the endpoints that take traffic, by id
 * @param picker the strategy's picker over {@code endpoints}
 */
public record ServicePool(Service service, Map<String, Endpoint> endpoints, Picker picker) {

  public ServicePool {
    endpoints = Map.copyOf(endpoints);
  }

  /**
   * The share of its weight the endpoint {@code id} gets at {@code nowMillis} under the service's
   * slow start: 1 when it is not eased in (or not here), else the formula's exact value (pickers
   * apply it in steps of about 1% of the window).
   */
  public double slowStartFactor(String id, long nowMillis) {
    Endpoint endpoint = endpoints.get(id);
    if (endpoint == null || !endpoint.ramps() || service.slowStart() == null) {
      return 1;
    }
    return service.slowStart().factor(nowMillis - endpoint.rampFromMillis());
  }
}
