package io.teller.backend.registration;

/** A registry call that failed, sorted by what the backend does about it. */
public final class RegistryLinkException extends RuntimeException {

  /** What went wrong, from the caller's point of view. */
  public enum Kind {
    /** The registry answered that it does not know the instance (or service): register again. */
    NOT_FOUND,
    /** No registry answered in time, or it could not complete the request: retry with backoff. */
    UNREACHABLE,
    /**
     * The registry refused the request (bad token, invalid registration): a configuration issue.
     */
    REFUSED
  }

  private final Kind kind;

  public RegistryLinkException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** Whether {@code failure} is a {@link RegistryLinkException} of {@code kind}. */
  public static boolean is(Throwable failure, Kind kind) {
    return failure instanceof RegistryLinkException e && e.kind == kind;
  }
}
