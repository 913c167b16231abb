package io.teller.balancer.edge;

import io.netty.buffer.ByteBuf;

/** The character classes of HTTP/1.1's grammar (RFC 9110 §5.1, §5.5, §5.6; RFC 9112 §7.1.1). */
final class Chars {

  static final int OTHER = 0;
  static final int HOST = 1;
  static final int CONTENT_LENGTH = 2;
  static final int TRANSFER_ENCODING = 3;

  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[Character.toUpperCase(c)] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private Chars() {}

  /** A token character: what method and field names are made of. */
  static boolean isTchar(byte b) {
    return b > 0 && TCHAR[b];
  }

  /** Optional white space: SP or HTAB. */
  static boolean isOws(byte b) {
    return b == ' ' || b == '\t';
  }

  /** A byte allowed in a field value: visible ASCII, SP, HTAB, or obs-text (0x80-0xFF). */
  static boolean isFieldValueByte(byte b) {
    return b == '\t' || (b >= 0x20 && b != 0x7f) || b < 0;
  }

  /** Which of the fields that decide framing and routing this name is, ignoring case. */
  static int fieldKind(ByteBuf buf, int start, int length) {
    return switch (length) {
      case 4 -> equalsIgnoreCase(buf, start, "host") ? HOST : OTHER;
      case 14 -> equalsIgnoreCase(buf, start, "content-length") ? CONTENT_LENGTH : OTHER;
      case 17 -> equalsIgnoreCase(buf, start, "transfer-encoding") ? TRANSFER_ENCODING : OTHER;
      default -> OTHER;
    };
  }

  private static boolean equalsIgnoreCase(ByteBuf buf, int start, String lowerCase) {
    for (int i = 0; i < lowerCase.length(); i++) {
      int b = buf.getByte(start + i);
      if (b >= 'A' && b <= 'Z') {
        b += 'a' - 'A';
      }
      if (b != lowerCase.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** 1 to {@code max} ASCII digits, nothing else (no sign, no space). */
  static boolean isDigits(String value, int max) {
    if (value.isEmpty() || value.length() > max) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * A host and optional port as {@code Host} carries them: a name or IPv4 address of letters,
   * digits, {@code - . _}, or a bracketed IPv6 literal; an empty value is allowed (RFC 9110 §7.2).
   * Stricter than RFC 3986's reg-name on purpose: percent-encoding and sub-delimiters in a host
   * name are how routing is confused, and no real host name needs them.
   */
  static boolean isHost(String value) {
    if (value.isEmpty()) {
      return true;
    }
    int portStart = -1;
    int i = 0;
    if (value.charAt(0) == '[') {
      int close = value.indexOf(']');
      if (close < 2) {
        return false;
      }
      for (i = 1; i < close; i++) {
        char c = value.charAt(i);
        if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
          return false;
        }
      }
      i = close + 1;
      if (i < value.length()) {
        if (value.charAt(i) != ':') {
          return false;
        }
        portStart = i + 1;
      }
    } else {
      for (; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c == ':') {
          portStart = i + 1;
          break;
        }
        if (!((c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '-'
            || c == '.'
            || c == '_')) {
          return false;
        }
      }
      if (i == 0) {
        return false;
      }
    }
    return portStart < 0 || isDigits(value.substring(portStart), 5);
  }

  /**
   * Chunk extensions after a chunk size: {@code *( BWS ";" BWS name [ BWS "=" BWS value ] )}, the
   * value a token or a quoted string, over the bytes {@code [from, to)} of one line.
   */
  static boolean isChunkExtension(ByteBuf buf, int from, int to) {
    int i = from;
    while (i < to) {
      i = skipOws(buf, i, to);
      if (i >= to || buf.getByte(i) != ';') {
        return false;
      }
      i = skipOws(buf, i + 1, to);
      int nameStart = i;
      while (i < to && isTchar(buf.getByte(i))) {
        i++;
      }
      if (i == nameStart) {
        return false;
      }
      int afterName = skipOws(buf, i, to);
      if (afterName < to && buf.getByte(afterName) == '=') {
        i = skipOws(buf, afterName + 1, to);
        if (i >= to) {
          return false;
        }
        if (buf.getByte(i) == '"') {
          i++;
          boolean closed = false;
          while (i < to) {
            byte b = buf.getByte(i);
            if (b == '\\') {
              if (i + 1 >= to || !isFieldValueByte(buf.getByte(i + 1))) {
                return false;
              }
              i += 2;
            } else if (b == '"') {
              i++;
              closed = true;
              break;
            } else if (isFieldValueByte(b)) {
              i++;
            } else {
              return false;
            }
          }
          if (!closed) {
            return false;
          }
        } else {
          int valueStart = i;
          while (i < to && isTchar(buf.getByte(i))) {
            i++;
          }
          if (i == valueStart) {
            return false;
          }
        }
      } else {
        i = afterName;
      }
    }
    return true;
  }

  /** One field line {@code name ":" OWS value OWS} over {@code [from, to)}, not folded. */
  static boolean isFieldLine(ByteBuf buf, int from, int to) {
    int i = from;
    while (i < to && isTchar(buf.getByte(i))) {
      i++;
    }
    if (i == from || i >= to || buf.getByte(i) != ':') {
      return false;
    }
    for (i++; i < to; i++) {
      if (!isFieldValueByte(buf.getByte(i))) {
        return false;
      }
    }
    return true;
  }

  private static int skipOws(ByteBuf buf, int i, int to) {
    while (i < to && isOws(buf.getByte(i))) {
      i++;
    }
    return i;
  }
}
