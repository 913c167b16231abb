package io.teller.registry.guard;

import io.teller.common.net.Cidr;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * The operator's ranges for instance addresses ({@code instances.allow}, {@code instances.deny}):
 * an address in a denied range is refused whatever else holds (deny wins); with allowed ranges, an
 * address outside all of them is refused; with none, every address not denied is allowed.
 *
 * @param allow the ranges instances may be in; empty: any
 * @param deny the ranges instances may never be in
 */
public record AddressRules(List<Cidr> allow, List<Cidr> deny) {

  /** No rule: every address is allowed. */
  public static final AddressRules NONE = new AddressRules(List.of(), List.of());

  public AddressRules {
    allow = List.copyOf(allow);
    deny = List.copyOf(deny);
  }

  /** Why {@code address} is refused, or empty if it is allowed. */
  public Optional<String> refusal(InetAddress address) {
    for (Cidr range : deny) {
      if (range.contains(address)) {
        return Optional.of(address.getHostAddress() + " is in instances.deny (" + range + ")");
      }
    }
    if (!allow.isEmpty() && allow.stream().noneMatch(range -> range.contains(address))) {
      return Optional.of(address.getHostAddress() + " is not in instances.allow");
    }
    return Optional.empty();
  }
}
