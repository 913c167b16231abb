package io.teller.balancer.strategy;

/**
 * Options of the strategies, validated on construction.
 *
 * @param hashOn what {@code consistent-hash} hashes: {@value #CLIENT_ADDRESS} (the client's IP
 *     address), {@code header:<Name>} (a request header) or {@code cookie:<name>} (a cookie). A
 *     header or cookie missing from a request falls back to the client address.
 */
public record StrategyOptions(String hashOn) {

  /** The {@code hashOn} value that hashes the client's address. */
  public static final String CLIENT_ADDRESS = "client-address";

  /** The {@code hashOn} prefix that hashes a request header. */
  public static final String HEADER_PREFIX = "header:";

  /** The {@code hashOn} prefix that hashes a cookie. */
  public static final String COOKIE_PREFIX = "cookie:";

  /** Hashes on the client address. */
  public static final StrategyOptions DEFAULT = new StrategyOptions(CLIENT_ADDRESS);

  public StrategyOptions {
    if (hashOn == null) {
      throw new IllegalArgumentException(
          "hash-on must be client-address, header:<Name> or cookie:<name>, got null");
    }
    if (!hashOn.equals(CLIENT_ADDRESS)) {
      String name;
      if (hashOn.startsWith(HEADER_PREFIX)) {
        name = hashOn.substring(HEADER_PREFIX.length());
      } else if (hashOn.startsWith(COOKIE_PREFIX)) {
        name = hashOn.substring(COOKIE_PREFIX.length());
      } else {
        throw new IllegalArgumentException(
            "hash-on must be client-address, header:<Name> or cookie:<name>, got '" + hashOn + "'");
      }
      if (!isToken(name)) {
        throw new IllegalArgumentException(
            "hash-on '"
                + hashOn
                + "': the name after the colon must be a non-empty HTTP token"
                + " (letters, digits and !#$%&'*+-.^_`|~)");
      }
    }
  }

  /** Whether {@code name} is an RFC 9110 token, what header and cookie names are made of. */
  private static boolean isToken(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }
}
