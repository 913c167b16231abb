package io.teller.balancer.edge;

/**
 * A request's path as routing sees it and the instance gets it: dot-segments removed (RFC 3986
 * §5.2.4), so that {@code /public/../internal} is routed, and forwarded, as {@code /internal} and a
 * route's prefix can never be escaped. What different servers decode differently is refused:
 * backslashes, and by default percent-encoded {@code /}, {@code \} and {@code .} (a backend that
 * decodes {@code %2e%2e} after routing would walk out of the prefix), {@code %00} and malformed
 * percent-encodings. The query is kept as it came.
 *
 * @param path the normalised path, starting with {@code /}
 * @param uri the normalised path with the query, as the instance gets it
 */
public record RequestTarget(String path, String uri) {

  /** Why a target was refused (the detail the client is told). */
  public static final class Refused extends Exception {
    Refused(String detail) {
      super(detail, null, false, false);
    }
  }

  /**
   * @param uri the request's target as the client sent it (origin-form; HTTP/2's {@code :path})
   * @param allowEncodedSeparators whether {@code %2F}, {@code %5C} and {@code %2E} may appear
   */
  public static RequestTarget of(String uri, boolean allowEncodedSeparators) throws Refused {
    int queryAt = uri.indexOf('?');
    String rawPath = queryAt < 0 ? uri : uri.substring(0, queryAt);
    String query = queryAt < 0 ? "" : uri.substring(queryAt);
    if (rawPath.isEmpty() || rawPath.charAt(0) != '/') {
      throw new Refused("the path does not start with /");
    }
    boolean dots = false;
    for (int i = 0; i < rawPath.length(); i++) {
      char c = rawPath.charAt(i);
      if (c == '\\') {
        throw new Refused("a backslash in the path");
      }
      if (c == '%') {
        if (i + 2 >= rawPath.length()
            || Character.digit(rawPath.charAt(i + 1), 16) < 0
            || Character.digit(rawPath.charAt(i + 2), 16) < 0) {
          throw new Refused("a malformed percent-encoding in the path");
        }
        int value =
            Character.digit(rawPath.charAt(i + 1), 16) * 16
                + Character.digit(rawPath.charAt(i + 2), 16);
        if (value == 0) {
          throw new Refused("an encoded NUL (%00) in the path");
        }
        if (!allowEncodedSeparators && (value == '/' || value == '\\' || value == '.')) {
          throw new Refused(
              "an encoded "
                  + (value == '.' ? "dot" : "separator")
                  + " (%"
                  + rawPath.substring(i + 1, i + 3)
                  + ") in the path");
        }
        i += 2;
      } else if (c == '.' && (i == 0 || rawPath.charAt(i - 1) == '/')) {
        dots = true;
      }
    }
    if (!dots) {
      return new RequestTarget(rawPath, uri);
    }
    String path = removeDotSegments(rawPath);
    return new RequestTarget(path, path + query);
  }

  /** RFC 3986 §5.2.4, on a path that starts with {@code /}. */
  static String removeDotSegments(String path) {
    StringBuilder out = new StringBuilder(path.length());
    int i = 0;
    int n = path.length();
    while (i < n) {
      // The segment starting at i (path.charAt(i) == '/').
      int end = path.indexOf('/', i + 1);
      if (end < 0) {
        end = n;
      }
      String segment = path.substring(i + 1, end);
      boolean last = end == n;
      if (segment.equals(".")) {
        if (last) {
          out.append('/');
        }
      } else if (segment.equals("..")) {
        int cut = out.lastIndexOf("/");
        out.setLength(Math.max(cut, 0));
        if (last) {
          out.append('/');
        }
      } else {
        out.append('/').append(segment);
      }
      i = end;
    }
    return out.length() == 0 ? "/" : out.toString();
  }
}
